package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.BiFunction;

/**
 * Two {@link ReliableSession}s joined by a simulated network and a manual clock: no threads, no
 * sockets, fully deterministic for a given seed. Each datagram is delivered after {@link #delay}
 * unless the {@link #network} policy drops, duplicates or delays it; the clock jumps from one event
 * (a delivery or a session deadline) to the next. After each input the session is flushed, as
 * {@link UdpConnection} does at the end of a read batch.
 */
final class SimulatedLink {
  /** What the network does with a datagram: the delays (from now) at which copies arrive; empty drops it. */
  @FunctionalInterface
  interface Network extends BiFunction<Endpoint, ByteBuf, long[]> {}

  static final long MS = 1_000_000L;

  final Endpoint a;
  final Endpoint b;
  long now = 1_000 * MS; // an arbitrary origin: nothing may assume the clock starts at 0
  long delay = MS; // one way
  Network network = (from, d) -> new long[] {delay};
  private final PriorityQueue<InFlight> wire = new PriorityQueue<>();
  private long order;
  final List<String> log = new ArrayList<>();

  private record InFlight(long at, long order, Endpoint to, ByteBuf datagram) implements Comparable<InFlight> {
    @Override
    public int compareTo(InFlight o) {
      return at != o.at ? Long.compare(at, o.at) : Long.compare(order, o.order);
    }
  }

  /** A link with sessions configured by {@code configure} (given the default config, per side). */
  SimulatedLink(java.util.function.UnaryOperator<ReliableSession.Config> configure) {
    ReliableSession.Config base = new ReliableSession.Config(
        1, 2, 1200, 64, 64, 4 * 1024 * 1024, Duration.ofSeconds(5), Duration.ofSeconds(1),
        Duration.ofMillis(50), Duration.ofSeconds(5), "sim");
    ReliableSession.Config ca = configure.apply(base);
    ReliableSession.Config cb = configure.apply(new ReliableSession.Config(
        base.peerCid(), base.localCid(), base.datagramSize(), base.peerWindow(), base.localWindow(),
        base.maxMessageSize(), base.idleTimeout(), base.keepAlive(), base.minRto(), base.linger(), "sim"));
    a = new Endpoint("A");
    b = new Endpoint("B");
    a.peer = b;
    b.peer = a;
    a.session = new ReliableSession(ca, a, a, a.counters, now, 2 * delay);
    b.session = new ReliableSession(cb, b, b, b.counters, now, 2 * delay);
  }

  SimulatedLink() {
    this(c -> c);
  }

  static ReliableSession.Config withWindow(ReliableSession.Config c, int window) {
    return new ReliableSession.Config(c.localCid(), c.peerCid(), c.datagramSize(), window, window, c.maxMessageSize(),
        c.idleTimeout(), c.keepAlive(), c.minRto(), c.linger(), c.peer());
  }

  static ReliableSession.Config withMaxMessageSize(ReliableSession.Config c, int max) {
    return new ReliableSession.Config(c.localCid(), c.peerCid(), c.datagramSize(), c.localWindow(), c.peerWindow(), max,
        c.idleTimeout(), c.keepAlive(), c.minRto(), c.linger(), c.peer());
  }

  /** Drops, duplicates and reorders at random with the given probabilities, from {@code seed}. */
  static Network lossy(long seed, double drop, double duplicate, double reorder, long delay) {
    SplittableRandom r = new SplittableRandom(seed);
    return (from, d) -> {
      if (r.nextDouble() < drop) {
        return new long[0];
      }
      long at = delay + (r.nextDouble() < reorder ? r.nextLong(3 * delay) : 0);
      return r.nextDouble() < duplicate ? new long[] {at, at + r.nextLong(delay) + 1} : new long[] {at};
    };
  }

  /** Starts both sessions. */
  void start() {
    a.session.start(now);
    b.session.start(now);
    flushBoth();
  }

  void flushBoth() {
    a.session.flush(now);
    b.session.flush(now);
    a.drainOut();
    b.drainOut();
  }

  /** Runs until both sides are quiet (nothing on the wire, no deadline) or {@code limit} passes. */
  void runFor(long limit) {
    long end = now + limit;
    while (true) {
      long next = Math.min(nextWire(), Math.min(deadline(a), deadline(b)));
      if (next == Long.MAX_VALUE || next - end > 0) {
        now = Math.max(now, end);
        return;
      }
      now = Math.max(now, next);
      step();
    }
  }

  /** Runs until {@code done} holds, failing after {@code limit} of simulated time. */
  void runUntil(java.util.function.BooleanSupplier done, long limit) {
    long end = now + limit;
    while (!done.getAsBoolean()) {
      long next = Math.min(nextWire(), Math.min(deadline(a), deadline(b)));
      if (next == Long.MAX_VALUE || next - end > 0) {
        throw new AssertionError("condition not reached within " + limit / MS + " ms of simulated time; A "
            + a.counters.get(UdpStats.Counter.MESSAGES_DELIVERED) + " delivered, B "
            + b.counters.get(UdpStats.Counter.MESSAGES_DELIVERED) + " delivered");
      }
      now = Math.max(now, next);
      step();
    }
  }

  private long nextWire() {
    return wire.isEmpty() ? Long.MAX_VALUE : wire.peek().at();
  }

  private static long deadline(Endpoint e) {
    return e.session.nextDeadline();
  }

  private void step() {
    while (!wire.isEmpty() && wire.peek().at() - now <= 0) {
      InFlight f = wire.poll();
      try {
        f.to().session.onDatagram(f.datagram(), now);
      } finally {
        f.datagram().release();
      }
      f.to().session.flush(now);
      f.to().drainOut();
    }
    for (Endpoint e : List.of(a, b)) {
      long d = e.session.nextDeadline();
      if (d != Long.MAX_VALUE && d - now <= 0) {
        e.session.onTimer(now);
        e.drainOut();
      }
    }
  }

  /** One side of the link: its session's Io and Events, recording what happens. */
  final class Endpoint implements ReliableSession.Io, ReliableSession.Events {
    final String name;
    final Counters counters = new Counters();
    final List<byte[]> delivered = new ArrayList<>();
    final List<ByteBuf> sent = new ArrayList<>();
    /** Every datagram this side sent, as copies, for tests that inspect or replay them. */
    final List<byte[]> history = new ArrayList<>();
    ReliableSession session;
    Endpoint peer;
    long acked;
    boolean peerFinished;
    boolean closed;
    Throwable closeCause;
    boolean terminated;
    boolean closeOnPeerFinish = true;
    /** Set to make onMessage throw. */
    RuntimeException throwOnMessage;

    Endpoint(String name) {
      this.name = name;
    }

    @Override
    public ByteBuf allocate(int capacity) {
      return Unpooled.buffer(capacity);
    }

    @Override
    public void send(ByteBuf datagram) {
      sent.add(datagram);
    }

    /** Puts what the session sent on the wire, through the network policy. */
    void drainOut() {
      for (ByteBuf d : sent) {
        byte[] copy = new byte[d.readableBytes()];
        d.getBytes(d.readerIndex(), copy);
        history.add(copy);
        for (long at : network.apply(this, d)) {
          wire.add(new InFlight(now + at, order++, peer, Unpooled.wrappedBuffer(copy.clone())));
        }
        d.release();
      }
      sent.clear();
    }

    /** Hands a datagram to this side now, as if it came from the peer. */
    void receive(byte[] datagram) {
      session.onDatagram(Unpooled.wrappedBuffer(datagram), now);
      session.flush(now);
      drainOut();
    }

    void send(byte[] message) {
      session.offer(message);
      session.flush(now);
      drainOut();
    }

    @Override
    public void onMessage(ByteBuffer message) {
      if (throwOnMessage != null) {
        throw throwOnMessage;
      }
      byte[] copy = new byte[message.remaining()];
      message.get(copy);
      delivered.add(copy);
    }

    @Override
    public void onAcked(long bytes) {
      acked += bytes;
    }

    @Override
    public void onPeerFinished() {
      peerFinished = true;
      if (closeOnPeerFinish) {
        session.close(now);
      }
    }

    @Override
    public void onClosed(Throwable cause) {
      if (closed) {
        throw new AssertionError(name + ": onClosed called twice");
      }
      closed = true;
      closeCause = cause;
    }

    @Override
    public void onTerminated() {
      terminated = true;
    }

    long count(UdpStats.Counter c) {
      return counters.get(c);
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
