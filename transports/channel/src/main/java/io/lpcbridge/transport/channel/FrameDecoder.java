package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.Frames.HEADER_BYTES;
import static io.lpcbridge.transport.channel.Frames.LENGTH_OFFSET;

import io.lpcbridge.transport.MessageHandler;
import java.io.EOFException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;

/**
 * Splits the received byte stream into messages (see {@link Frames}) and hands each one to the
 * handler as a slice of the read buffer, without a copy.
 *
 * <p>The read buffer is direct and {@code initialCapacity} bytes. A frame that does not fit gets a
 * heap buffer of its own size (at most {@code maxMessageSize} + {@value Frames#HEADER_BYTES}); once
 * the frame in progress fits the small buffer again, the decoder goes back to it and keeps the
 * large one aside for the next large frame that fits it, so a stream of large messages does not
 * allocate one large array per message (each a humongous allocation for G1, which then collects
 * every message or two). The spare is dropped after {@value #SPARE_KEPT_FOR} deliveries in a row
 * that did not need it. Reads into a large buffer are limited to {@value
 * #LARGE_READ_WINDOW} bytes at a time, so a channel that copies heap buffers through a temporary
 * direct one (the JDK's) never needs a large temporary buffer.
 *
 * <p>Not thread-safe: used by the reader thread only.
 */
final class FrameDecoder {
  static final int DEFAULT_INITIAL_CAPACITY = 64 * 1024;
  static final int LARGE_READ_WINDOW = 256 * 1024;
  static final int SPARE_KEPT_FOR = 64;

  private final int maxMessageSize;
  private final ByteBuffer small;
  /**
   * {@code small} or a large buffer. In write mode: {@code [0, position)} holds bytes received but
   * not yet delivered, always the start of a frame.
   */
  private ByteBuffer buffer;
  /** The last large buffer, kept for the next large frame; or null. */
  private ByteBuffer spare;
  /** deliver() calls since a large buffer was last needed. */
  private int withoutLarge;

  FrameDecoder(int maxMessageSize, int initialCapacity) {
    this.maxMessageSize = maxMessageSize;
    int capacity = (int) Math.min(initialCapacity, (long) maxMessageSize + HEADER_BYTES);
    this.small = ByteBuffer.allocateDirect(Math.max(capacity, HEADER_BYTES));
    this.buffer = small;
  }

  /** The buffer to read into next; it always has room. */
  ByteBuffer readBuffer() {
    if (buffer != small) {
      buffer.limit((int) Math.min(buffer.capacity(), (long) buffer.position() + LARGE_READ_WINDOW));
    }
    return buffer;
  }

  /** The capacity of the buffer in use, for tests. */
  int capacity() {
    return buffer.capacity();
  }

  /**
   * Delivers every whole frame in the buffer to {@code handler}, in order, then keeps the frame in
   * progress at the start of a buffer large enough to hold it whole.
   *
   * @throws ProtocolException when a frame announces a length over {@code maxMessageSize}
   */
  void deliver(MessageHandler handler) throws ProtocolException {
    int end = buffer.position();
    int start = 0;
    while (end - start >= HEADER_BYTES) {
      int length = checkedLength(start);
      if (end - start - HEADER_BYTES < length) {
        break;
      }
      handler.onMessage(buffer.slice(start + HEADER_BYTES, length));
      start += HEADER_BYTES + length;
    }
    keep(start, end);
  }

  private int checkedLength(int frameStart) throws ProtocolException {
    int length = buffer.getInt(frameStart + LENGTH_OFFSET);
    if (length < 0 || length > maxMessageSize) {
      throw Frames.tooLarge(length, maxMessageSize);
    }
    return length;
  }

  /** Moves {@code [start, end)}, the frame in progress, to the start of the right buffer. */
  private void keep(int start, int end) {
    int rest = end - start;
    // Lengths in the buffer were checked by deliver(), so this cannot overflow.
    int needed = rest >= HEADER_BYTES ? HEADER_BYTES + buffer.getInt(start + LENGTH_OFFSET) : HEADER_BYTES;
    ByteBuffer target;
    if (needed <= small.capacity()) {
      target = small;
      if (buffer != small) {
        spare = buffer;
        withoutLarge = 0;
      } else if (spare != null && ++withoutLarge > SPARE_KEPT_FOR) {
        spare = null;
      }
    } else if (needed <= buffer.capacity()) {
      target = buffer;
    } else if (spare != null && needed <= spare.capacity()) {
      target = spare;
      spare = null;
    } else {
      target = ByteBuffer.allocate(needed);
      spare = null;
    }
    if (target == buffer) {
      if (start > 0) {
        buffer.limit(end).position(start);
        buffer.compact();
      }
    } else {
      target.clear();
      target.put(0, buffer, start, rest);
      buffer = target;
    }
    buffer.limit(buffer.capacity()).position(rest);
  }

  /**
   * What reaching the end of the stream now means.
   *
   * @return null when it came between frames; otherwise an exception saying how much of the frame
   *     in progress arrived
   */
  EOFException endOfStream() {
    int rest = buffer.position();
    if (rest == 0) {
      return null;
    }
    if (rest < HEADER_BYTES) {
      return Frames.truncatedHeader(rest);
    }
    return Frames.truncatedPayload(rest - HEADER_BYTES, buffer.getInt(LENGTH_OFFSET));
  }
}
