package io.lpcbridge.bench;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The plain-socket floor (see {@link SocketEchoServer}): one blocking JDK {@code SocketChannel} per
 * scenario and one thread that writes and reads on it. One exchange in flight only: the floor of
 * a round trip, and of a stream over one connection.
 */
final class SocketDriver implements Driver {
  private final String target;
  private SocketFrames frames;

  SocketDriver(Endpoint endpoint) {
    this.target = endpoint.target();
  }

  @Override
  public void start(Scenario s, Window w, double rate) throws IOException {
    if (s.concurrency() != 1) {
      throw new IllegalArgumentException("the socket floor runs one exchange in flight only");
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
  }

  @Override
  public void close() {
    end();
  }
}
