package io.lpcbridge.core;

import io.grpc.KnownLength;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * An {@link InputStream} over a received payload, for {@code Marshaller.parse}. It reads the
 * transport's memory in place; it is valid only as long as that memory is (the duration of a
 * {@link StreamListener#onMessage} call). {@link KnownLength} lets protobuf size its parse buffer
 * exactly.
 */
public final class ByteBufferInputStream extends InputStream implements KnownLength {
  private final ByteBuffer buf;

  public ByteBufferInputStream(ByteBuffer buf) {
    this.buf = buf;
  }

  @Override
  public int read() {
    return buf.hasRemaining() ? buf.get() & 0xff : -1;
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (len == 0) {
      return 0;
    }
    if (!buf.hasRemaining()) {
      return -1;
    }
    int n = Math.min(len, buf.remaining());
    buf.get(b, off, n);
    return n;
  }

  @Override
  public long skip(long n) {
    int k = (int) Math.max(0, Math.min(n, buf.remaining()));
    buf.position(buf.position() + k);
    return k;
  }

  @Override
  public int available() {
    return buf.remaining();
  }
}
