package io.lpcbridge.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.StandardSocketOptions;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;

/** Length-prefixed messages (4-byte big-endian length) over a blocking {@link SocketChannel}. */
final class SocketFrames implements AutoCloseable {
  private final SocketChannel channel;
  private final ByteBuffer header = ByteBuffer.allocateDirect(4);
  private final ByteBuffer[] pair = new ByteBuffer[2];
  private ByteBuffer body = ByteBuffer.allocateDirect(64 * 1024);

  SocketFrames(SocketChannel channel) {
    this.channel = channel;
  }

  /** Connects to {@code tcp://host:port} or {@code unix:///path}. */
  static SocketFrames connect(String target) throws IOException {
    SocketChannel c;
    if (target.startsWith("tcp://")) {
      String hp = target.substring("tcp://".length());
      int colon = hp.lastIndexOf(':');
      c = SocketChannel.open(StandardProtocolFamily.INET);
      c.setOption(StandardSocketOptions.TCP_NODELAY, true);
      c.connect(new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))));
    } else {
      c = SocketChannel.open(StandardProtocolFamily.UNIX);
      c.connect(UnixDomainSocketAddress.of(Path.of(target.substring("unix://".length()))));
    }
    return new SocketFrames(c);
  }

  /** The next message, valid until the next read (position 0, limit its length). */
  ByteBuffer read() throws IOException {
    header.clear();
    fill(header);
    int length = header.getInt(0);
    if (length < 0 || length > 64 << 20) {
      throw new IOException("bad frame length " + length);
    }
    if (body.capacity() < length) {
      body = ByteBuffer.allocateDirect(length);
    }
    body.clear().limit(length);
    fill(body);
    return body.flip();
  }

  /** Writes the message between position and limit; leaves them as they were. */
  void write(ByteBuffer message) throws IOException {
    header.clear();
    header.putInt(0, message.remaining());
    pair[0] = header;
    pair[1] = message.duplicate();
    while (pair[1].hasRemaining() || header.hasRemaining()) {
      channel.write(pair);
    }
  }

  private void fill(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      if (channel.read(b) < 0) {
        throw new EOFException();
      }
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
