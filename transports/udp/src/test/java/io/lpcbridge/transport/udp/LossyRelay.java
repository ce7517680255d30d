package io.lpcbridge.transport.udp;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-process UDP relay between clients and one server that loses, duplicates, reorders,
 * replays and truncates datagrams at configurable rates, each way independently drawn, or goes
 * silent. Clients connect to {@link #address()}; each client source gets its own upstream socket, so
 * the server sees one address per client, as through a NAT. One thread, one selector; {@link
 * #close()} stops it.
 *
 * <p>Rates may be changed while it runs (they are volatile). Randomness comes from a seed, but
 * which datagram meets which draw depends on timing, so runs are not bit-for-bit repeatable.
 */
final class LossyRelay implements AutoCloseable {
  volatile double drop;
  volatile double duplicate;
  volatile double reorder;
  volatile double replay;
  volatile double truncate;
  /** Drop everything, both ways: a link that went down. */
  volatile boolean silent;
  /** Longest extra delay of a reordered datagram. */
  volatile long reorderNanos = 2_000_000;

  final AtomicLong forwarded = new AtomicLong();
  final AtomicLong dropped = new AtomicLong();
  final AtomicLong duplicated = new AtomicLong();
  final AtomicLong reordered = new AtomicLong();
  final AtomicLong replayed = new AtomicLong();
  final AtomicLong truncated = new AtomicLong();

  private final InetSocketAddress server;
  private final Selector selector;
  private final DatagramChannel front;
  private final Map<SocketAddress, DatagramChannel> upstreams = new HashMap<>();
  private final PriorityQueue<Pending> later = new PriorityQueue<>();
  private final ArrayDeque<Pending> history = new ArrayDeque<>();
  private final SplittableRandom random;
  private final Thread thread;
  private volatile boolean running = true;
  private long order;

  private record Pending(long at, long order, DatagramChannel via, SocketAddress to, byte[] data)
      implements Comparable<Pending> {
    @Override
    public int compareTo(Pending o) {
      return at != o.at ? Long.compare(at, o.at) : Long.compare(order, o.order);
    }
  }

  LossyRelay(InetSocketAddress server, long seed) throws IOException {
    this.server = server;
    this.random = new SplittableRandom(seed);
    this.selector = Selector.open();
    this.front = DatagramChannel.open();
    front.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    front.configureBlocking(false);
    front.register(selector, SelectionKey.OP_READ);
    this.thread = Thread.ofPlatform().daemon().name("lossy-relay").start(this::run);
  }

  /** Where clients connect. */
  InetSocketAddress address() throws IOException {
    return (InetSocketAddress) front.getLocalAddress();
  }

  LossyRelay rates(double drop, double duplicate, double reorder) {
    this.drop = drop;
    this.duplicate = duplicate;
    this.reorder = reorder;
    return this;
  }

  private void run() {
    ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
    try {
      while (running) {
        long dueIn = later.isEmpty() ? Long.MAX_VALUE : later.peek().at() - System.nanoTime();
        if (dueIn == Long.MAX_VALUE) {
          selector.select(100);
        } else if (dueIn > 0) {
          selector.select(Math.max(1, dueIn / 1_000_000));
        } else {
          selector.selectNow();
        }
        for (SelectionKey k : selector.selectedKeys()) {
          DatagramChannel ch = (DatagramChannel) k.channel();
          SocketAddress from;
          while ((from = receive(ch, buf.clear())) != null) {
            byte[] data = new byte[buf.flip().remaining()];
            buf.get(data);
            if (ch == front) {
              relay(upstream(from), server, data);
            } else {
              relay(front, (SocketAddress) k.attachment(), data);
            }
          }
        }
        selector.selectedKeys().clear();
        long now = System.nanoTime();
        while (!later.isEmpty() && later.peek().at() <= now) {
          Pending p = later.poll();
          send(p.via(), p.to(), p.data());
        }
      }
    } catch (IOException e) {
      if (running) {
        throw new java.io.UncheckedIOException("lossy relay failed", e);
      }
    } finally {
      closeQuietly();
    }
  }

  private static SocketAddress receive(DatagramChannel ch, ByteBuffer buf) throws IOException {
    try {
      return ch.receive(buf);
    } catch (java.net.PortUnreachableException e) {
      return null; // an ICMP error from an earlier send: ignore, like a router would
    }
  }

  private DatagramChannel upstream(SocketAddress client) throws IOException {
    DatagramChannel up = upstreams.get(client);
    if (up == null) {
      up = DatagramChannel.open();
      up.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      up.configureBlocking(false);
      up.register(selector, SelectionKey.OP_READ, client);
      upstreams.put(client, up);
    }
    return up;
  }

  private void relay(DatagramChannel via, SocketAddress to, byte[] data) throws IOException {
    if (silent || random.nextDouble() < drop) {
      dropped.incrementAndGet();
      return;
    }
    byte[] out = data;
    if (truncate > 0 && random.nextDouble() < truncate && data.length > 1) {
      out = java.util.Arrays.copyOf(data, random.nextInt(data.length));
      truncated.incrementAndGet();
    }
    long now = System.nanoTime();
    if (random.nextDouble() < reorder) {
      reordered.incrementAndGet();
      later.add(new Pending(now + 1 + random.nextLong(reorderNanos), order++, via, to, out));
    } else {
      send(via, to, out);
    }
    if (random.nextDouble() < duplicate) {
      duplicated.incrementAndGet();
      later.add(new Pending(now + 1 + random.nextLong(reorderNanos), order++, via, to, out));
    }
    if (replay > 0) {
      history.add(new Pending(now, 0, via, to, out));
      if (history.size() > 64) {
        Pending old = history.poll(); // sent 64 datagrams ago: long acknowledged, usually
        if (random.nextDouble() < replay) {
          replayed.incrementAndGet();
          send(old.via(), old.to(), old.data());
        }
      }
    }
  }

  private void send(DatagramChannel via, SocketAddress to, byte[] data) throws IOException {
    if (silent) {
      dropped.incrementAndGet();
      return;
    }
    forwarded.incrementAndGet();
    via.send(ByteBuffer.wrap(data), to);
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    selector.wakeup();
    thread.join(5_000);
  }

  private void closeQuietly() {
    try {
      for (DatagramChannel up : upstreams.values()) {
        up.close();
      }
      front.close();
      selector.close();
    } catch (IOException e) {
      // closing anyway
    }
  }

  @Override
  public String toString() {
    return "relay: forwarded " + forwarded + ", dropped " + dropped + ", duplicated " + duplicated
        + ", reordered " + reordered + ", replayed " + replayed + ", truncated " + truncated;
  }
}
