package io.lpcbridge.core;

import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * An {@link InputStream} over a received payload, for {@code Marshaller.parse}. It reads the
 * transport's memory in place; it is valid only as long as that memory is (the duration of a
 * {@link StreamListener#onMessage} call). {@link KnownLength} lets protobuf size its parse buffer
 * exactly.
 *
 * <p>For marshallers that parse without copying, as they can on grpc-netty's inbound streams:
 * {@link HasByteBuffer} hands out the payload itself (a read-only view of the transport's memory,
 * the shm ring's included, valid during {@code parse} only), and {@link Detachable#detach} hands
 * over a stream the marshaller may keep after {@code parse} returns (its message aliasing it).
 * Since the transport's memory is reused once the callback returns, detaching copies the bytes
 * left, once, to the heap; this stream is then empty.
 */
public final class ByteBufferInputStream extends InputStream implements KnownLength, HasByteBuffer, Detachable {
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0).asReadOnlyBuffer();

  private ByteBuffer buf;

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

  @Override
  public boolean byteBufferSupported() {
    return true;
  }

  /**
   * The bytes not yet read, all in one buffer (null at the end), without moving this stream's
   * position. Read-only: it may be the transport's memory.
   */
  @Override
  public ByteBuffer getByteBuffer() {
    return buf.hasRemaining() ? buf.slice().asReadOnlyBuffer() : null;
  }

  /** A stream over a heap copy of the bytes not yet read, which stays valid; this one is left empty. */
  @Override
  public InputStream detach() {
    ByteBuffer copy = WireStream.copy(buf);
    buf = EMPTY;
    return new ByteBufferInputStream(copy);
  }
}
