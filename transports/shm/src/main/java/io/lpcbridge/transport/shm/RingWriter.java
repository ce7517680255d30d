package io.lpcbridge.transport.shm;

import static io.lpcbridge.transport.shm.RecordDescriptor.ALIGNMENT;
import static io.lpcbridge.transport.shm.RecordDescriptor.FIRST;
import static io.lpcbridge.transport.shm.RecordDescriptor.FIRST_HEADER_LENGTH;
import static io.lpcbridge.transport.shm.RecordDescriptor.HEADER_LENGTH;
import static io.lpcbridge.transport.shm.RecordDescriptor.LAST;
import static io.lpcbridge.transport.shm.RecordDescriptor.LENGTH_OFFSET;
import static io.lpcbridge.transport.shm.RecordDescriptor.MESSAGE;
import static io.lpcbridge.transport.shm.RecordDescriptor.MIDDLE;
import static io.lpcbridge.transport.shm.RecordDescriptor.PADDING;
import static io.lpcbridge.transport.shm.RecordDescriptor.TOTAL_LENGTH_OFFSET;
import static io.lpcbridge.transport.shm.RecordDescriptor.TYPE_OFFSET;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

/**
 * The producing end of one single-producer/single-consumer ring (layout: {@link
 * SegmentDescriptor}, records: {@link RecordDescriptor}).
 *
 * <p>Not thread-safe: one thread at a time (the connection's send lock serializes senders and the
 * reader thread's flushes). The consumer is another process, trusted for nothing: the Head it
 * publishes is checked before it is used.
 *
 * <h2>Memory ordering</h2>
 *
 * <ul>
 *   <li>Record headers and payload are written with plain stores, then Tail is written with
 *       <b>release</b>: a consumer that reads Tail with acquire sees every byte of the records
 *       before it.
 *   <li>Head is read with <b>acquire</b>: the consumer released it after it had finished reading
 *       the records before it, so the space is safe to overwrite once Head says so.
 *   <li>Need Space is set with a <b>volatile</b> store (a full fence on x86), then Head is read
 *       again: against the consumer's "store Head, full fence, read Need Space" this is Dekker's
 *       pattern, so either this side sees the new Head or the consumer sees the flag and rings.
 * </ul>
 */
final class RingWriter {
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final MemorySegment segment;
  private final String name;
  private final long tailAt;
  private final long headAt;
  private final long needSpaceAt;
  private final long dataAt;
  private final int capacity;
  private final int mask;
  private final int maxPayload;
  /** The data area as a buffer, for bulk copies from the caller's buffer (absolute puts only). */
  private final ByteBuffer data;

  /** This side's Tail; the shared word is a published copy. */
  private long tail;
  /** The last Head read from the consumer, so the shared word is read only when space runs out. */
  private long headCache;

  /**
   * @param controlAt offset of the ring's control block in {@code segment}
   * @param dataAt offset of its data area
   * @param name the ring as it appears in error messages, e.g. "ring client to server"
   */
  RingWriter(MemorySegment segment, long controlAt, long dataAt, int capacity, String name) {
    RecordDescriptor.checkRingCapacity(capacity);
    this.segment = segment;
    this.name = name;
    this.tailAt = controlAt + SegmentDescriptor.TAIL_OFFSET;
    this.headAt = controlAt + SegmentDescriptor.HEAD_OFFSET;
    this.needSpaceAt = controlAt + SegmentDescriptor.NEED_SPACE_OFFSET;
    this.dataAt = dataAt;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.maxPayload = RecordDescriptor.maxPayload(capacity);
    this.data = segment.asSlice(dataAt, capacity).asByteBuffer();
  }

  /** The largest message that goes whole, in one MESSAGE record. */
  int maxPayload() {
    return maxPayload;
  }

  /** The most message bytes one FIRST record carries. */
  int maxFirstChunk() {
    return maxPayload - FIRST_HEADER_LENGTH;
  }

  int capacity() {
    return capacity;
  }

  /**
   * Writes as much of a message as the ring takes now: one MESSAGE record for a message of up to
   * {@link #maxPayload()} bytes, else FIRST, MIDDLE..., LAST fragments, each as large as a record
   * may be. Call again with the returned progress once the consumer has freed space.
   *
   * @param src holds the message; its position and limit are not used or moved
   * @param base the index in {@code src} of message byte 0 (negative when {@code src} holds only
   *     the rest of a message from byte {@code -base} on)
   * @param total the message's length
   * @param sent message bytes already in the ring, or -1 when none (not even a 0-byte MESSAGE)
   * @return the new {@code sent}: {@code total} once the whole message is in
   */
  int writeMessage(ByteBuffer src, int base, int total, int sent) throws ShmProtocolException {
    if (total <= maxPayload) {
      return tryWrite(MESSAGE, src, base, total, 0) ? total : sent;
    }
    while (sent < total) {
      int from = Math.max(sent, 0);
      int type;
      int chunk;
      if (sent < 0) {
        type = FIRST;
        chunk = maxFirstChunk();
      } else {
        chunk = Math.min(maxPayload, total - sent);
        type = sent + chunk == total ? LAST : MIDDLE;
      }
      if (!tryWrite(type, src, base + from, chunk, total)) {
        break;
      }
      sent = from + chunk;
    }
    return sent;
  }

  /** The payload of the next record {@link #writeMessage} would write for that message and progress. */
  int nextPayload(int total, int sent) {
    if (total <= maxPayload) {
      return total;
    }
    return sent < 0 ? maxPayload : Math.min(maxPayload, total - sent);
  }

  /**
   * Appends one record of {@code type} carrying {@code length} bytes of {@code src} from {@code
   * srcOffset} (src's position and limit are not used or moved), and publishes it.
   *
   * @param totalLength for FIRST, the whole message's length; ignored otherwise
   * @return false, writing nothing, when the ring has no room for it now
   * @throws ShmProtocolException if the consumer published an impossible Head
   */
  boolean tryWrite(int type, ByteBuffer src, int srcOffset, int length, int totalLength) throws ShmProtocolException {
    int payload = type == FIRST ? length + FIRST_HEADER_LENGTH : length;
    if (payload > maxPayload || length < 0) {
      throw new IllegalArgumentException(
          RecordDescriptor.typeName(type) + " record of " + payload + " payload bytes exceeds the ring's " + maxPayload);
    }
    int recordLength = RecordDescriptor.recordLength(payload);
    int index = (int) tail & mask;
    int toEnd = capacity - index;
    int required = recordLength <= toEnd ? recordLength : toEnd + recordLength;
    if (!hasRoom(required)) {
      return false;
    }
    long position = tail;
    if (recordLength > toEnd) {
      // toEnd is a multiple of 8, at least 8: a header always fits.
      writeHeader(index, toEnd - HEADER_LENGTH, PADDING);
      position += toEnd;
      index = 0;
    }
    writeHeader(index, payload, type);
    int at = index + HEADER_LENGTH;
    if (type == FIRST) {
      segment.set(ValueLayout.JAVA_INT, dataAt + at + TOTAL_LENGTH_OFFSET, totalLength);
      segment.set(ValueLayout.JAVA_INT, dataAt + at + TOTAL_LENGTH_OFFSET + Integer.BYTES, 0);
      at += FIRST_HEADER_LENGTH;
    }
    if (length > 0) {
      data.put(at, src, srcOffset, length);
    }
    tail = position + recordLength;
    // Release: the record's bytes are visible to whoever reads this Tail with acquire.
    LONG.setRelease(segment, tailAt, tail);
    return true;
  }

  /** Whether a record with {@code payload} bytes (FIRST: its whole payload) would fit now. */
  boolean canWrite(int payload) throws ShmProtocolException {
    int recordLength = RecordDescriptor.recordLength(payload);
    int toEnd = capacity - ((int) tail & mask);
    return hasRoom(recordLength <= toEnd ? recordLength : toEnd + recordLength);
  }

  private boolean hasRoom(int required) throws ShmProtocolException {
    if (capacity - (tail - headCache) >= required) {
      return true;
    }
    headCache = readHead();
    return capacity - (tail - headCache) >= required;
  }

  private long readHead() throws ShmProtocolException {
    // Acquire: pairs with the consumer's release of Head after it finished reading.
    long head = (long) LONG.getAcquire(segment, headAt);
    if (head < headCache || head > tail || (head & (ALIGNMENT - 1)) != 0) {
      throw new ShmProtocolException(
          name + ": the consumer published Head " + head + ", outside [" + headCache + ", " + tail
              + "] or not 8-byte aligned; the peer corrupted the segment");
    }
    return head;
  }

  private void writeHeader(int index, int payload, int type) {
    segment.set(ValueLayout.JAVA_INT, dataAt + index + LENGTH_OFFSET, payload);
    segment.set(ValueLayout.JAVA_INT, dataAt + index + TYPE_OFFSET, type);
  }

  /**
   * Asks the consumer to ring this side's doorbell once it frees space, then says whether space for
   * {@code payload} bytes appeared meanwhile (in which case the caller goes on writing).
   */
  boolean requestSpace(int payload) throws ShmProtocolException {
    // Volatile store: a full fence, so the Head read in canWrite() cannot move before it.
    INT.setVolatile(segment, needSpaceAt, 1);
    return canWrite(payload);
  }

  /** Whether the consumer has answered {@link #requestSpace} (cleared the flag). */
  boolean spaceRequestAnswered() {
    return (int) INT.getVolatile(segment, needSpaceAt) == 0;
  }
}
