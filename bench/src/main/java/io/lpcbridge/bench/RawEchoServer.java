package io.lpcbridge.bench;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The server end of the raw floor on one SPI connection ({@link RawProtocol}). Echoes are sent from
 * the transport's thread inside {@code onMessage}, with no hand-off; streams are written by a
 * thread of their own, which waits for {@code onWritable} when the transport pushes back.
 */
final class RawEchoServer implements MessageHandler {
  private final Connection connection;
  private final ByteBuffer reply = ByteBuffer.allocate(16);
  private final Semaphore writable = new Semaphore(0);
  private final LinkedBlockingQueue<int[]> streams = new LinkedBlockingQueue<>();
  private long received;
  private Thread streamer;
  private volatile boolean closed;

  RawEchoServer(Connection connection) {
    this.connection = connection;
  }

  @Override
  public void onMessage(ByteBuffer message) {
    int p = message.position();
    switch (message.get(p)) {
      case RawProtocol.ECHO -> connection.send(message);
      case RawProtocol.DATA -> received++;
      case RawProtocol.FINISH -> {
        connection.send(RawProtocol.ack(reply, received));
        received = 0;
      }
      case RawProtocol.STREAM -> {
        if (streamer == null) {
          streamer = Thread.ofPlatform().daemon().name("bench-raw-streamer").start(this::streamLoop);
        }
        streams.add(new int[] {message.getInt(p + 1), message.getInt(p + 5)});
      }
      default -> throw new IllegalStateException("unknown raw operation " + message.get(p));
    }
  }

  private void streamLoop() {
    ByteBuffer buf = ByteBuffer.allocateDirect(16);
    try {
      while (!closed) {
        int[] req = streams.poll(100, TimeUnit.MILLISECONDS);
        if (req == null) {
          continue;
        }
        if (buf.capacity() < req[1]) {
          buf = ByteBuffer.allocateDirect(req[1]);
        }
        for (int i = 0; i < req[0] && !closed; i++) {
          while (!connection.isWritable() && !closed) {
            writable.tryAcquire(1, TimeUnit.MILLISECONDS);
          }
          connection.send(RawProtocol.data(buf, req[1]));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void onWritable() {
    writable.release();
  }

  @Override
  public void onClosed(Throwable cause) {
    closed = true;
    writable.release();
  }
}
