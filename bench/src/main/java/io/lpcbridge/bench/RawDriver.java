package io.lpcbridge.bench;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import java.nio.ByteBuffer;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The raw floor of an SPI transport: the same {@link Connection} the bridge runs on, with {@link
 * RawProtocol} instead of the RPC layer, one connection per endpoint (as the RPC rows have one
 * channel), handed from scenario to scenario once the previous one is quiet.
 *
 * <p>Echo round trips are driven from the transport's own thread: the answer to one message is
 * received in {@code onMessage}, which sends the next, so the floor has no hand-off between threads
 * in either process (the least any RPC layer on this transport could do). N in flight are N
 * messages pipelined on the connection. Streams go as fast as {@code isWritable()} allows.
 */
final class RawDriver implements Driver {
  private final Connection connection;
  /** The handler of the scenario running now; messages go to it. */
  private volatile MessageHandler current;
  private volatile Throwable closed;

  RawDriver(Endpoint endpoint) throws java.io.IOException {
    connection = Transports.connect(Target.parse(endpoint.target()), TransportOptions.of(endpoint.options()));
    connection.start(new MessageHandler() {
      @Override
      public void onMessage(ByteBuffer message) {
        MessageHandler h = current;
        if (h != null) {
          h.onMessage(message);
        }
      }

      @Override
      public void onWritable() {
        MessageHandler h = current;
        if (h != null) {
          h.onWritable();
        }
      }

      @Override
      public void onClosed(Throwable cause) {
        closed = cause != null ? cause : new IllegalStateException("the raw connection closed");
        MessageHandler h = current;
        if (h != null) {
          h.onClosed(cause);
        }
      }
    });
  }

  @Override
  public void start(Scenario s, Window w, double rate) throws Exception {
    if (closed != null) {
      throw new IllegalStateException("the raw connection is closed: " + closed.getMessage());
    }
    Connection c = connection;
    int size = Math.max(RawProtocol.MIN_SIZE, s.size());
    switch (s.kind()) {
      case UNARY, BIDI -> {
        Echo echo = new Echo(c, size, w, s.mode() == Mode.FIXED ? new Pacer(rate) : null);
        current = echo;
        w.active.addAndGet(s.concurrency());
        ByteBuffer buf = ByteBuffer.allocate(size);
        for (int i = 0; i < s.concurrency(); i++) {
          long t0 = echo.pacer != null ? echo.pacer.next() : System.nanoTime();
          c.send(RawProtocol.echo(buf, size, t0));
        }
      }
      case SERVER_STREAM -> {
        Sink sink = new Sink(c, size, RawProtocol.messagesPerCall(size), w);
        current = sink;
        w.active.incrementAndGet();
        sink.request();
      }
      case CLIENT_STREAM -> {
        Source source = new Source(c, size, RawProtocol.messagesPerCall(size), w);
        current = source;
        w.active.incrementAndGet();
        Thread.ofPlatform().daemon().name("bench-load").start(source);
      }
    }
  }

  @Override
  public void end() {
    current = null;
  }

  @Override
  public void close() {
    connection.close();
  }

  /** Answers arrive on the transport thread, which records them and sends the next message. */
  private static final class Echo implements MessageHandler {
    private final Connection c;
    private final int size;
    private final Window w;
    final Pacer pacer;
    private final ByteBuffer out;

    Echo(Connection c, int size, Window w, Pacer pacer) {
      this.c = c;
      this.size = size;
      this.w = w;
      this.pacer = pacer;
      this.out = ByteBuffer.allocate(size);
    }

    @Override
    public void onMessage(ByteBuffer m) {
      long now = System.nanoTime();
      if (m.remaining() != size || m.get(m.position()) != RawProtocol.ECHO) {
        w.fail(new IllegalStateException("raw echo answered " + m.remaining() + " bytes to " + size));
        w.active.decrementAndGet();
        return;
      }
      w.record(now - m.getLong(m.position() + 1));
      if (!w.running()) {
        w.active.decrementAndGet();
        return;
      }
      long t0;
      if (pacer != null) {
        pacer.ended(now);
        t0 = pacer.next();
      } else {
        t0 = System.nanoTime();
      }
      c.send(RawProtocol.echo(out, size, t0));
    }

    @Override
    public void onClosed(Throwable cause) {
      if (w.running()) {
        w.fail(cause != null ? cause : new IllegalStateException("the raw echo connection closed"));
      }
    }
  }

  /** Receives a stream of DATA messages; when one ends, asks for the next. */
  private static final class Sink implements MessageHandler {
    private final Connection c;
    private final int size;
    private final int perCall;
    private final Window w;
    private final ByteBuffer out = ByteBuffer.allocate(16);
    private int left;

    Sink(Connection c, int size, int perCall, Window w) {
      this.c = c;
      this.size = size;
      this.perCall = perCall;
      this.w = w;
    }

    void request() {
      left = perCall;
      c.send(RawProtocol.stream(out, perCall, size));
    }

    @Override
    public void onMessage(ByteBuffer m) {
      if (m.remaining() != size) {
        w.fail(new IllegalStateException("raw stream sent " + m.remaining() + " bytes, not " + size));
      }
      w.count(1);
      if (--left == 0) {
        if (w.running()) {
          request();
        } else {
          w.active.decrementAndGet();
        }
      }
    }

    @Override
    public void onClosed(Throwable cause) {
      if (w.running()) {
        w.fail(cause != null ? cause : new IllegalStateException("the raw stream connection closed"));
      }
    }
  }

  /** Sends batches of DATA while the connection is writable, each batch closed by FINISH and its ACK. */
  private static final class Source implements MessageHandler, Runnable {
    private final Connection c;
    private final int size;
    private final int perCall;
    private final Window w;
    private final Semaphore writable = new Semaphore(0);
    private final Semaphore acked = new Semaphore(0);
    private volatile long ackCount;

    Source(Connection c, int size, int perCall, Window w) {
      this.c = c;
      this.size = size;
      this.perCall = perCall;
      this.w = w;
    }

    @Override
    public void run() {
      ByteBuffer buf = ByteBuffer.allocateDirect(size);
      try {
        while (w.running()) {
          for (int i = 0; i < perCall; i++) {
            while (!c.isWritable()) {
              writable.tryAcquire(1, TimeUnit.MILLISECONDS);
            }
            c.send(RawProtocol.data(buf, size));
            w.count(1);
          }
          c.send(RawProtocol.finish(buf));
          if (!acked.tryAcquire(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("no ACK from the raw server within 60 s");
          }
          if (ackCount != perCall) {
            throw new IllegalStateException("the raw server counted " + ackCount + " of " + perCall + " messages");
          }
        }
      } catch (Throwable t) {
        w.fail(t);
      } finally {
        w.active.decrementAndGet();
      }
    }

    @Override
    public void onMessage(ByteBuffer m) {
      if (m.get(m.position()) == RawProtocol.ACK) {
        ackCount = m.getLong(m.position() + 1);
        acked.release();
      }
    }

    @Override
    public void onWritable() {
      writable.release();
    }

    @Override
    public void onClosed(Throwable cause) {
      writable.release();
      if (w.running()) {
        w.fail(cause != null ? cause : new IllegalStateException("the raw connection closed"));
      }
    }
  }
}
