package io.lpcbridge.bench;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * The server end of the raw floor on one SPI connection ({@link RawProtocol}). Echoes are sent from
 * the transport's thread inside {@code onMessage}, with no hand-off. Streams are written from the
 * transport's callbacks too: as much as the connection takes in {@code onMessage}, the rest from
 * {@code onWritable} as it drains. A thread of their own would compete with the transport's reader
 * thread for the server's vCPU (a spinning shm reader halved the floor's throughput), and the RPC
 * layer above streams from the reader thread as well.
 */
final class RawEchoServer implements MessageHandler {
  private final Connection connection;
  private final ByteBuffer reply = ByteBuffer.allocate(16);
  /** Streams asked for and not yet sent: {messages left, size}. Guarded by this. */
  private final ArrayDeque<int[]> streams = new ArrayDeque<>();
  /** Guarded by this. */
  private ByteBuffer data = ByteBuffer.allocateDirect(16);
  private long received;
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
        synchronized (this) {
          streams.add(new int[] {message.getInt(p + 1), message.getInt(p + 5)});
        }
        pump();
      }
      default -> throw new IllegalStateException("unknown raw operation " + message.get(p));
    }
  }

  /** Sends what the streams asked for while the connection takes it; onWritable calls again. */
  private synchronized void pump() {
    int[] s;
    while (!closed && (s = streams.peek()) != null) {
      if (data.capacity() < s[1]) {
        data = ByteBuffer.allocateDirect(s[1]);
      }
      while (s[0] > 0) {
        if (!connection.isWritable() || closed) {
          return;
        }
        connection.send(RawProtocol.data(data, s[1]));
        s[0]--;
      }
      streams.poll();
    }
  }

  @Override
  public void onWritable() {
    pump();
  }

  @Override
  public void onClosed(Throwable cause) {
    closed = true;
  }
}
