package io.lpcbridge.transport.shm;

/**
 * The record format inside a ring's data area (see {@link SegmentDescriptor}). Agrona's {@code
 * RecordDescriptor} is the model.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Length (32, payload bytes)                 |
 *  +---------------+-----------------------------------------------+
 *  |   Type (8)    |               Reserved (24) = 0               |
 *  +---------------+-----------------------------------------------+
 *  |                    Payload (Length bytes) ...                 |
 *  +---------------------------------------------------------------+
 *  |            unused bytes up to the next 8-byte boundary        |
 *  +---------------------------------------------------------------+
 *
 *  the payload of a FIRST record starts with
 *  +---------------------------------------------------------------+
 *  |            Total Length (32) of the fragmented message        |
 *  +---------------------------------------------------------------+
 *  |                    Reserved (32) = 0                          |
 *  +---------------------------------------------------------------+
 *  |            the message's first bytes ...                      |
 * </pre>
 *
 * <ul>
 *   <li>Integers are native byte order; Type is the low byte of the second word.
 *   <li>Records start on 8-byte boundaries and never wrap: a record that would run past the end of
 *       the data area is preceded by a PADDING record that fills the rest of it, and starts at 0.
 *   <li>A record is at most half the capacity, so it always fits into an empty ring wherever the
 *       positions stand. A message up to {@link #maxPayload} bytes goes whole, in one MESSAGE
 *       record (the reader hands it over in place); a longer one goes as FIRST, MIDDLE..., LAST
 *       and is reassembled by the reader.
 *   <li>CLOSE, with Length 0, is the producer's last record: the orderly end of its direction.
 * </ul>
 */
final class RecordDescriptor {
  static final int LENGTH_OFFSET = 0;
  static final int TYPE_OFFSET = 4;
  static final int HEADER_LENGTH = 8;
  static final int ALIGNMENT = 8;

  /** Offsets inside a FIRST record's payload. */
  static final int TOTAL_LENGTH_OFFSET = 0;
  static final int FIRST_HEADER_LENGTH = 8;

  static final int PADDING = 1;
  static final int MESSAGE = 2;
  static final int FIRST = 3;
  static final int MIDDLE = 4;
  static final int LAST = 5;
  static final int CLOSE = 6;

  /** The smallest capacity the ring classes accept (connections use {@link SegmentDescriptor#MIN_CAPACITY}). */
  static final int MIN_RING_CAPACITY = 64;

  private RecordDescriptor() {}

  /** Bytes a record with {@code payload} bytes of payload occupies, header and alignment included. */
  static int recordLength(int payload) {
    return (HEADER_LENGTH + payload + ALIGNMENT - 1) & -ALIGNMENT;
  }

  /** The largest payload of one record in a ring of {@code capacity} bytes: half of it, less a header. */
  static int maxPayload(int capacity) {
    return capacity / 2 - HEADER_LENGTH;
  }

  static String typeName(int type) {
    return switch (type) {
      case PADDING -> "PADDING";
      case MESSAGE -> "MESSAGE";
      case FIRST -> "FIRST";
      case MIDDLE -> "MIDDLE";
      case LAST -> "LAST";
      case CLOSE -> "CLOSE";
      default -> "type " + type;
    };
  }

  static void checkRingCapacity(int capacity) {
    if (capacity < MIN_RING_CAPACITY || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("ring capacity " + capacity + " is not a power of two of at least " + MIN_RING_CAPACITY);
    }
  }
}
