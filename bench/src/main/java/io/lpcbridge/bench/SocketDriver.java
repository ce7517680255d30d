package io.lpcbridge.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The plain-socket floor (see {@link SocketEchoServer}): one blocking JDK {@code SocketChannel} per
 * scenario and one thread that writes and reads on it. One exchange in flight only: the floor of
 * a round trip, and of a stream over one connection.
 *
 * <p>Over {@code udp://}: one connected blocking {@link DatagramChannel} per scenario, one thread
 * that sends a datagram and receives its echo, one exchange in flight, unary (and bidi) only. The
 * receive itself is a plain blocking read, as cheap as a floor should be; a watchdog thread closes
 * the channel when an answer is {@value #UDP_RECEIVE_TIMEOUT_MILLIS} ms late, so a datagram lost
 * on loopback fails the row with a clear message instead of hanging the client.
 */
final class SocketDriver implements Driver {
  /**
   * How long the UDP ping-pong waits for an answer: thousands of loopback round trips, so a late
   * answer can only be a lost datagram (plain UDP does not retransmit), and short against the
   * client's wind-down limit.
   */
  static final long UDP_RECEIVE_TIMEOUT_MILLIS = 2000;

  private final String target;
  private SocketFrames frames;
  private DatagramChannel datagrams;

  SocketDriver(Endpoint endpoint) {
    this.target = endpoint.target();
  }

  @Override
  public void start(Scenario s, Window w, double rate) throws IOException {
    if (s.concurrency() != 1) {
      throw new IllegalArgumentException("the socket floor runs one exchange in flight only");
    }
    if (target.startsWith("udp://")) {
      startDatagrams(s, w, rate);
      return;
    }
    SocketFrames f = SocketFrames.connect(target);
    frames = f;
    int size = Math.max(RawProtocol.MIN_SIZE, s.size());
    int perCall = RawProtocol.messagesPerCall(size);
    Pacer pacer = s.mode() == Mode.FIXED ? new Pacer(rate) : null;
    w.active.incrementAndGet();
    Thread.ofPlatform().daemon().name("bench-load").start(() -> {
      try {
        ByteBuffer buf = ByteBuffer.allocateDirect(size);
        while (w.running()) {
          switch (s.kind()) {
            case UNARY, BIDI -> {
              long t0 = pacer != null ? pacer.next() : System.nanoTime();
              f.write(RawProtocol.echo(buf, size, t0));
              ByteBuffer m = f.read();
              long t1 = System.nanoTime();
              if (m.remaining() != size) {
                throw new IllegalStateException("socket echo answered " + m.remaining() + " bytes to " + size);
              }
              w.record(t1 - t0);
              if (pacer != null) {
                pacer.ended(t1);
              }
            }
            case SERVER_STREAM -> {
              f.write(RawProtocol.stream(buf, perCall, size));
              for (int i = 0; i < perCall; i++) {
                f.read();
                w.count(1);
              }
            }
            case CLIENT_STREAM -> {
              for (int i = 0; i < perCall; i++) {
                f.write(RawProtocol.data(buf, size));
                w.count(1);
              }
              f.write(RawProtocol.finish(buf));
              ByteBuffer ack = f.read();
              if (ack.get(0) != RawProtocol.ACK || ack.getLong(1) != perCall) {
                throw new IllegalStateException("the socket server counted " + ack.getLong(1) + " of " + perCall);
              }
            }
          }
        }
      } catch (Throwable t) {
        w.fail(t);
      } finally {
        w.active.decrementAndGet();
      }
    });
  }

  /** The UDP ping-pong: a datagram out, its echo back, checked, timed; see the class comment. */
  private void startDatagrams(Scenario s, Window w, double rate) throws IOException {
    if (!s.kind().isLatency()) {
      throw new IllegalArgumentException("socket/udp runs no " + s.kind().label() + ": " + BenchPlan.UDP_NO_STREAMS);
    }
    int size = Math.max(RawProtocol.MIN_SIZE, s.size());
    if (size > SocketEchoServer.MAX_DATAGRAM) {
      throw new IllegalArgumentException("socket/udp runs no " + Sizes.format(size) + " message: " + BenchPlan.UDP_TOO_LARGE);
    }
    String hp = target.substring("udp://".length());
    int colon = hp.lastIndexOf(':');
    DatagramChannel d = DatagramChannel.open(StandardProtocolFamily.INET);
    datagrams = d;
    d.connect(new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))));
    Pacer pacer = s.mode() == Mode.FIXED ? new Pacer(rate) : null;
    // nanoTime when the exchange waiting for its answer was sent; 0 while none is.
    AtomicLong waitingSince = new AtomicLong();
    AtomicBoolean timedOut = new AtomicBoolean();
    w.active.incrementAndGet();
    Thread load = Thread.ofPlatform().daemon().name("bench-load").start(() -> {
      try {
        ByteBuffer out = ByteBuffer.allocateDirect(size);
        ByteBuffer in = ByteBuffer.allocateDirect(SocketEchoServer.MAX_DATAGRAM);
        while (w.running()) {
          long t0 = pacer != null ? pacer.next() : System.nanoTime();
          waitingSince.set(System.nanoTime());
          d.write(RawProtocol.echo(out, size, t0));
          in.clear();
          int n = d.read(in);
          long t1 = System.nanoTime();
          waitingSince.set(0);
          if (n != size || in.get(0) != RawProtocol.ECHO || in.getLong(1) != t0) {
            throw new IllegalStateException("the udp echo answered a datagram of " + n + " bytes that is not the echo of the "
                + size + "-byte datagram just sent");
          }
          w.record(t1 - t0);
          if (pacer != null) {
            pacer.ended(t1);
          }
        }
      } catch (ClosedChannelException e) {
        // Closed by the watchdog (an answer was late), or by end() once the scenario was abandoned.
        if (timedOut.get()) {
          w.fail(new IllegalStateException("the udp echo did not answer within " + UDP_RECEIVE_TIMEOUT_MILLIS
              + " ms: the datagram or its echo was lost (plain UDP does not retransmit)"));
        } else if (w.running()) {
          w.fail(e);
        }
      } catch (Throwable t) {
        w.fail(t);
      } finally {
        w.active.decrementAndGet();
      }
    });
    Thread.ofPlatform().daemon().name("bench-watchdog").start(() -> {
      try {
        while (!load.join(Duration.ofMillis(100))) {
          long since = waitingSince.get();
          if (since != 0 && System.nanoTime() - since > UDP_RECEIVE_TIMEOUT_MILLIS * 1_000_000) {
            timedOut.set(true);
            d.close();
            return;
          }
        }
      } catch (InterruptedException | IOException e) {
        // Nothing to watch any more.
      }
    });
  }

  @Override
  public void end() {
    if (frames != null) {
      try {
        frames.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      frames = null;
    }
    if (datagrams != null) {
      try {
        datagrams.close();
      } catch (IOException e) {
        // Closing anyway.
      }
      datagrams = null;
    }
  }

  @Override
  public void close() {
    end();
  }
}
