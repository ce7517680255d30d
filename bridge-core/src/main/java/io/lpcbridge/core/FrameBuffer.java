package io.lpcbridge.core;

import static io.lpcbridge.core.FrameHeader.FLAGS_OFFSET;
import static io.lpcbridge.core.FrameHeader.HEADER_LENGTH;
import static io.lpcbridge.core.FrameHeader.LENGTH_OFFSET;
import static io.lpcbridge.core.FrameHeader.TYPE_OFFSET;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A growable buffer that frames are appended to until it is handed to the transport as one
 * message. Not thread-safe: a buffer belongs to one stream or one sender at a time.
 *
 * <p>Payloads are written in place (a marshaller drains straight into {@link #outputStream()}), so
 * a message is serialized once, into the bytes that go to the transport.
 */
final class FrameBuffer {
  private static final int INITIAL_CAPACITY = 256;
  /** Larger buffers are kept by {@link #clear} only while they are being filled. */
  static final int LARGE = 256 * 1024;

  /**
   * Room left after a large known need, for the frames that follow a large message (its stream's
   * trailers, an end-of-stream): without it the trailers of a 1 MiB answer doubled the buffer, a
   * second allocation of twice the size (humongous for G1 even with 4 MiB regions) and a copy of
   * the whole message, on every such call.
   */
  static final int TAIL_ROOM = 4096;

  private ByteBuffer buf;
  private int openFrame = -1;
  private int lastFrame = -1;
  private final OutputStream out = new Out();

  FrameBuffer() {
    this(INITIAL_CAPACITY);
  }

  FrameBuffer(int capacity) {
    buf = ByteBuffer.allocate(Math.max(capacity, HEADER_LENGTH));
  }

  boolean isEmpty() {
    return buf.position() == 0;
  }

  int size() {
    return buf.position();
  }

  /** Bytes the buffer holds before it must grow, for tests. */
  int capacity() {
    return buf.capacity();
  }

  /** Starts a frame whose payload follows; close it with {@link #endFrame()}. */
  FrameBuffer beginFrame(byte type, byte flags, int streamId) {
    if (openFrame >= 0) {
      throw new IllegalStateException("frame already open");
    }
    ensure(HEADER_LENGTH);
    openFrame = buf.position();
    buf.putInt(0).put(type).put(flags).putShort((short) 0).putInt(streamId);
    return this;
  }

  /** Patches the open frame's length. */
  FrameBuffer endFrame() {
    int start = openFrame;
    if (start < 0) {
      throw new IllegalStateException("no open frame");
    }
    buf.putInt(start + LENGTH_OFFSET, buf.position() - start - HEADER_LENGTH);
    lastFrame = start;
    openFrame = -1;
    return this;
  }

  /** Cuts the buffer back to {@code size} bytes, which must end on a frame boundary. */
  void truncate(int size) {
    buf.position(size);
    openFrame = -1;
    lastFrame = -1;
  }

  /** Drops the open frame, e.g. when serializing its payload failed. */
  void abandonFrame() {
    if (openFrame >= 0) {
      buf.position(openFrame);
      openFrame = -1;
    }
  }

  /** A frame without payload. */
  FrameBuffer frame(byte type, byte flags, int streamId) {
    return beginFrame(type, flags, streamId).endFrame();
  }

  /** Type of the last complete frame, or -1. */
  int lastFrameType() {
    return lastFrame < 0 ? -1 : buf.get(lastFrame + TYPE_OFFSET);
  }

  /** ORs {@code flag} into the last complete frame's flags. */
  void addFlagToLastFrame(byte flag) {
    int at = lastFrame + FLAGS_OFFSET;
    buf.put(at, (byte) (buf.get(at) | flag));
  }

  /** Length of the payload currently being written into the open frame. */
  int openPayloadLength() {
    return buf.position() - openFrame - HEADER_LENGTH;
  }

  FrameBuffer putByte(int v) {
    ensure(1);
    buf.put((byte) v);
    return this;
  }

  FrameBuffer putShort(int v) {
    ensure(2);
    buf.putShort((short) v);
    return this;
  }

  FrameBuffer putInt(int v) {
    ensure(4);
    buf.putInt(v);
    return this;
  }

  FrameBuffer putLong(long v) {
    ensure(8);
    buf.putLong(v);
    return this;
  }

  FrameBuffer put(byte[] b) {
    return put(b, 0, b.length);
  }

  FrameBuffer put(byte[] b, int off, int len) {
    ensure(len);
    buf.put(b, off, len);
    return this;
  }

  FrameBuffer put(ByteBuffer b) {
    ensure(b.remaining());
    buf.put(b.duplicate());
    return this;
  }

  /** UTF-8 bytes of {@code s} with no length prefix. */
  FrameBuffer putUtf8(String s) {
    return put(s.getBytes(StandardCharsets.UTF_8));
  }

  OutputStream outputStream() {
    return out;
  }

  /**
   * Appends a stream that says it holds {@code expected} bytes, asking for all of them in one
   * read into this buffer's array: grpc's protobuf stream then serializes its message straight
   * into it, where draining would go through an intermediate buffer. Bytes the stream holds
   * beyond {@code expected} are appended too, and fewer are fine.
   */
  void readFrom(InputStream in, int expected) throws IOException {
    ensure(expected);
    int at = buf.position();
    int n = 0;
    while (n < expected) {
      int r = in.read(buf.array(), buf.arrayOffset() + at + n, expected - n);
      if (r < 0) {
        buf.position(at + n);
        return;
      }
      n += r;
    }
    buf.position(at + n);
    int more = in.read();
    if (more >= 0) {
      putByte(more);
      in.transferTo(out);
    }
  }

  /**
   * A read-only view of everything written, for {@code Connection.send}. Valid until the next
   * write or {@link #clear()}.
   */
  ByteBuffer contents() {
    return buf.duplicate().flip();
  }

  /**
   * Empties the buffer, keeping its memory unless it is large and was mostly empty this time: a
   * stream of large messages reuses one array instead of allocating one per message (with G1, a
   * humongous allocation each, and a collection every message or two), and a stream back to small
   * messages lets it go.
   */
  void clear() {
    if (buf.capacity() > LARGE && buf.position() < buf.capacity() / 4) {
      buf = ByteBuffer.allocate(INITIAL_CAPACITY);
    } else {
      buf.clear();
    }
    openFrame = -1;
    lastFrame = -1;
  }

  /** Makes room for {@code n} more bytes. */
  void ensure(int n) {
    if (buf.remaining() >= n) {
      return;
    }
    long needed = (long) buf.position() + n;
    if (needed > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("frame buffer would exceed 2 GiB");
    }
    // Doubling for what is appended bit by bit; for a larger known need (a message of known
    // length), that size and TAIL_ROOM: one allocation, not a chain of ever larger ones.
    long doubled = (long) buf.capacity() * 2;
    int cap = (int) Math.min(Integer.MAX_VALUE - 8, needed > doubled ? needed + TAIL_ROOM : doubled);
    ByteBuffer bigger = ByteBuffer.allocate(cap);
    buf.flip();
    bigger.put(buf);
    buf = bigger;
  }

  private final class Out extends OutputStream {
    @Override
    public void write(int b) {
      putByte(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      put(b, off, len);
    }
  }
}
