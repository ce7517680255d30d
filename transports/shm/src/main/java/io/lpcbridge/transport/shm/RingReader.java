package io.lpcbridge.transport.shm;

import static io.lpcbridge.transport.shm.RecordDescriptor.ALIGNMENT;
import static io.lpcbridge.transport.shm.RecordDescriptor.CLOSE;
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
import java.nio.ByteOrder;
import java.util.function.Consumer;

/**
 * The consuming end of one single-producer/single-consumer ring: reads records, checks every length,
 * index and type against the ring's bounds before using it, hands whole messages over in place and
 * reassembles fragmented ones.
 *
 * <p>The producer is another process, trusted for nothing: it may scribble over any byte at any
 * time. So each header field is read exactly once into a local and checked there, a record is
 * delivered only between bounds checked against this side's own capacity, and anything out of
 * line is a {@link ShmProtocolException} that fails this connection only. The bytes of a delivered
 * message may still change under the handler (the peer can write them), but never outside the
 * buffer it was given: the buffer's bounds are checked on every access.
 *
 * <p>Not thread-safe: the connection's reader thread alone uses it.
 *
 * <h2>Memory ordering</h2>
 *
 * <ul>
 *   <li>Tail is read with <b>acquire</b>, pairing with the producer's release: the records before
 *       it are complete.
 *   <li>Head is written with <b>release</b> after each record's handler has returned, so the
 *       producer, reading it with acquire, overwrites nothing still being read. This is what makes
 *       handing over a view of the ring (zero copy) safe.
 *   <li>After releasing space, a <b>full fence</b> orders that store before the read of Need Space
 *       (Dekker's pattern against the producer's "set Need Space, fence, read Head").
 * </ul>
 */
final class RingReader {
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
  private final int maxMessageSize;
  /** The data area; handed to handlers with position and limit set to one message. */
  private final ByteBuffer view;

  private long head;
  private boolean closeSeen;

  /** The fragmented message being reassembled, or null. */
  private ByteBuffer assembly;
  /**
   * The last reassembly buffer, reused for the next fragmented message that fits: a delivered
   * message is valid only during onMessage, so the memory is free again afterwards, and a fresh
   * buffer per message would be allocated and zeroed for nothing.
   */
  private ByteBuffer spare;
  /** Reassembly buffers up to this size are kept for reuse; larger ones are dropped after use. */
  static final int MAX_SPARE = 4 * 1024 * 1024;

  /**
   * @param maxMessageSize the largest message this side accepts; a longer one fails the connection
   */
  RingReader(MemorySegment segment, long controlAt, long dataAt, int capacity, int maxMessageSize, String name) {
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
    this.maxMessageSize = maxMessageSize;
    this.view = segment.asSlice(dataAt, capacity).asByteBuffer();
  }

  /** Whether the producer has published records not read yet. */
  boolean hasData() {
    return (long) LONG.getVolatile(segment, tailAt) != head;
  }

  /** Whether the producer's CLOSE record has been read: nothing follows it. */
  boolean closeSeen() {
    return closeSeen;
  }

  /**
   * Reads up to {@code limit} records published so far, handing each whole message to {@code
   * sink}, and releases their space record by record.
   *
   * @return the number of records read (padding and fragments included); 0 when there were none
   * @throws ShmProtocolException if the producer wrote anything out of bounds or out of order
   * @throws RuntimeException whatever {@code sink} throws; that record is not released
   */
  int read(Consumer<ByteBuffer> sink, int limit) throws ShmProtocolException {
    if (closeSeen) {
      return 0;
    }
    // Acquire: pairs with the producer's release; every record before Tail is complete.
    long tail = (long) LONG.getAcquire(segment, tailAt);
    long available = tail - head;
    if (available == 0) {
      return 0;
    }
    if (available < 0 || available > capacity || (tail & (ALIGNMENT - 1)) != 0) {
      throw corrupt("Tail " + tail + " is not within one capacity (" + capacity + ") ahead of Head " + head
          + " or not 8-byte aligned");
    }
    int records = 0;
    while (head != tail && records < limit && !closeSeen) {
      int index = (int) head & mask;
      int length = segment.get(ValueLayout.JAVA_INT, dataAt + index + LENGTH_OFFSET);
      int typeWord = segment.get(ValueLayout.JAVA_INT, dataAt + index + TYPE_OFFSET);
      int type = typeWord & 0xFF;
      if ((typeWord >>> 8) != 0) {
        throw corrupt("record at " + head + " has type word 0x" + Integer.toHexString(typeWord)
            + ": reserved bits set");
      }
      if (length < 0 || length > capacity - index - HEADER_LENGTH) {
        throw corrupt(RecordDescriptor.typeName(type) + " record at " + head + " (offset " + index + ") has length "
            + length + ", past the end of the " + capacity + "-byte data area");
      }
      int recordLength = RecordDescriptor.recordLength(length);
      if (recordLength > tail - head) {
        throw corrupt(RecordDescriptor.typeName(type) + " record at " + head + " of " + recordLength
            + " bytes runs past Tail " + tail);
      }
      int at = index + HEADER_LENGTH;
      switch (type) {
        case PADDING -> {
          if (index + recordLength != capacity) {
            throw corrupt("PADDING record at offset " + index + " of " + recordLength
                + " bytes does not end at the end of the data area (" + capacity + ")");
          }
        }
        case MESSAGE -> {
          checkNotAssembling(type);
          checkPayload(length);
          checkMessageSize(length);
          view.clear().position(at).limit(at + length);
          view.order(ByteOrder.BIG_ENDIAN);
          sink.accept(view);
        }
        case FIRST -> {
          checkNotAssembling(type);
          checkPayload(length);
          if (length < FIRST_HEADER_LENGTH) {
            throw corrupt("FIRST record at " + head + " has length " + length + ", shorter than its "
                + FIRST_HEADER_LENGTH + "-byte header");
          }
          int total = segment.get(ValueLayout.JAVA_INT, dataAt + at + TOTAL_LENGTH_OFFSET);
          int chunk = length - FIRST_HEADER_LENGTH;
          if (total < 0 || chunk >= total) {
            throw corrupt("FIRST record at " + head + " announces a message of " + total
                + " bytes but carries " + chunk + " of them: nothing left for the other fragments");
          }
          checkMessageSize(total);
          assembly = takeBuffer(total);
          // clear(): absolute bulk gets check the source's limit, which a handler may have moved.
          assembly.put(0, view.clear(), at + FIRST_HEADER_LENGTH, chunk).position(chunk);
        }
        case MIDDLE, LAST -> {
          if (assembly == null) {
            throw corrupt(RecordDescriptor.typeName(type) + " record at " + head + " without a FIRST before it");
          }
          checkPayload(length);
          int received = assembly.position();
          int rest = assembly.limit() - received;
          if (type == MIDDLE ? length >= rest : length != rest) {
            throw corrupt(RecordDescriptor.typeName(type) + " record at " + head + " carries " + length
                + " bytes, but " + rest + " of the " + assembly.limit() + "-byte message are missing");
          }
          assembly.put(received, view.clear(), at, length).position(received + length);
          if (type == LAST) {
            ByteBuffer whole = assembly.flip();
            assembly = null;
            sink.accept(whole);
          }
        }
        case CLOSE -> {
          checkNotAssembling(type);
          if (length != 0) {
            throw corrupt("CLOSE record at " + head + " has length " + length + ", not 0");
          }
          closeSeen = true;
        }
        default -> throw corrupt("record at " + head + " has unknown type " + type);
      }
      head += recordLength;
      // Release: the handler has returned, so the producer may overwrite this record now.
      LONG.setRelease(segment, headAt, head);
      records++;
    }
    return records;
  }

  /**
   * After {@link #read} released space: whether the producer asked to be told (and the flag is now
   * cleared), in which case the caller rings the producer's doorbell.
   */
  boolean takeSpaceRequest() {
    // Full fence: the Head stores above must be visible before Need Space is read (Dekker).
    VarHandle.fullFence();
    if ((int) INT.getVolatile(segment, needSpaceAt) != 0) {
      INT.setVolatile(segment, needSpaceAt, 0);
      return true;
    }
    return false;
  }

  private ByteBuffer takeBuffer(int total) {
    ByteBuffer b = spare;
    if (b != null && b.capacity() >= total) {
      // A handler may have changed the order; the bridge reads big-endian.
      return b.clear().limit(total).order(ByteOrder.BIG_ENDIAN);
    }
    b = ByteBuffer.allocate(total);
    spare = total <= MAX_SPARE ? b : null;
    return b;
  }

  /** Bytes of a fragmented message received so far, or -1 when none is in progress. */
  int assembling() {
    return assembly == null ? -1 : assembly.position();
  }

  private void checkNotAssembling(int type) throws ShmProtocolException {
    if (assembly != null) {
      throw corrupt(RecordDescriptor.typeName(type) + " record at " + head + " in the middle of a fragmented message ("
          + assembly.position() + " of " + assembly.limit() + " bytes received)");
    }
  }

  private void checkPayload(int length) throws ShmProtocolException {
    if (length > maxPayload) {
      throw corrupt("record at " + head + " has " + length + " payload bytes, over the ring's limit " + maxPayload
          + " (half the capacity, less a header)");
    }
  }

  private void checkMessageSize(int size) throws ShmProtocolException {
    if (size > maxMessageSize) {
      throw new ShmProtocolException(
          name + ": the peer sent a message of " + size + " bytes, over this side's maxMessageSize " + maxMessageSize
              + " (set the transport option maxMessageSize to the same value on both ends)");
    }
  }

  private ShmProtocolException corrupt(String what) {
    return new ShmProtocolException(name + ": " + what + "; the peer corrupted the segment or speaks another version");
  }
}
