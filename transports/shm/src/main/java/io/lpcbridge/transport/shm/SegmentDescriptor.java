package io.lpcbridge.transport.shm;

/**
 * The layout of one connection's shared segment: a control page, then one ring of {@code
 * capacity} bytes per direction. The record format inside each ring is {@link RecordDescriptor}'s.
 * Agrona's {@code RingBufferDescriptor} is the model.
 *
 * <pre>
 *  control page (offsets in bytes; words a peer writes often sit 2 cache lines apart)
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                     Magic "LPSH" (32)                         |  0
 *  +---------------------------------------------------------------+
 *  |                     Version (32) = 1                          |  4
 *  +---------------------------------------------------------------+
 *  |             Ring Capacity (32, bytes, each direction)         |  8
 *  +---------------------------------------------------------------+
 *  |                     Reserved (32)                             | 12
 *  +---------------------------------------------------------------+
 *  |                     Segment Length (64)                       | 16
 *  +---------------------------------------------------------------+
 *  |                     Server Pid (64)                           | 24
 *  +---------------------------------------------------------------+
 *  |                     Client Pid (64)                           | 32
 *  +---------------------------------------------------------------+
 *  |  Client Doorbell (32): eventcount the client's reader sleeps on| 128
 *  +---------------------------------------------------------------+
 *  |  Server Doorbell (32): eventcount the server's reader sleeps on| 256
 *  +---------------------------------------------------------------+
 *  |  Client Cpu (32): CPU the client's reader last ran on, or -1   | 384
 *  +---------------------------------------------------------------+
 *  |  Server Cpu (32)                                              | 512
 *  +---------------------------------------------------------------+
 *  |  Ring 0 (client to server) control: Tail (64) at +0,          | 640
 *  |  Head (64) at +128, Need Space (32) at +256                   |
 *  +---------------------------------------------------------------+
 *  |  Ring 1 (server to client) control, same fields               | 1024
 *  +---------------------------------------------------------------+
 *  |  zero up to the end of the page                               |
 *  +===============================================================+
 *  |  Ring 0 data: Capacity bytes of records                       | 4096
 *  +---------------------------------------------------------------+
 *  |  Ring 1 data: Capacity bytes of records                       | 4096 + Capacity
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <ul>
 *   <li>All integers are in the host's native byte order: both processes are on one host.
 *   <li><b>Tail</b> and <b>Head</b> are byte positions that only grow (the offset in the data area
 *       is the position modulo Capacity). The producer alone writes Tail, the consumer alone Head.
 *   <li><b>Need Space</b> is set to 1 by a producer that has messages waiting for room, and cleared
 *       by the consumer, which then rings the producer's doorbell.
 *   <li>A <b>Doorbell</b> is an eventcount on a futex word: bit 0 says the owner is asleep or about
 *       to be, bits 1-31 count the wake-ups (see {@link Doorbell}).
 *   <li>Magic, Version, Capacity and Segment Length are written by the server before the segment is
 *       passed on and checked by the client before it uses anything else; after that, each side
 *       uses its own validated copy and never reads them again.
 * </ul>
 */
final class SegmentDescriptor {
  /** x86-64 and most arm64 parts. */
  static final int CACHE_LINE = 64;
  /**
   * Distance between words written by different processes: two cache lines, because adjacent-line
   * prefetchers pull in pairs of lines and would make neighbours share after all.
   */
  static final int SPACING = 2 * CACHE_LINE;
  static final int PAGE = 4096;

  static final int MAGIC = 0x4C50_5348; // "LPSH"
  static final int VERSION = 1;

  static final int MAGIC_OFFSET = 0;
  static final int VERSION_OFFSET = 4;
  static final int CAPACITY_OFFSET = 8;
  static final int SEGMENT_LENGTH_OFFSET = 16;
  static final int SERVER_PID_OFFSET = 24;
  static final int CLIENT_PID_OFFSET = 32;
  static final int CLIENT_DOORBELL_OFFSET = SPACING;
  static final int SERVER_DOORBELL_OFFSET = 2 * SPACING;
  static final int CLIENT_CPU_OFFSET = 3 * SPACING;
  static final int SERVER_CPU_OFFSET = 4 * SPACING;

  /** Ring control block, relative to its start. */
  static final int TAIL_OFFSET = 0;
  static final int HEAD_OFFSET = SPACING;
  static final int NEED_SPACE_OFFSET = 2 * SPACING;
  static final int RING_CONTROL_LENGTH = 3 * SPACING;

  static final int RING_CONTROL_BASE = 5 * SPACING;
  /** The control page; ring data starts on the next page. */
  static final int CONTROL_LENGTH = align(RING_CONTROL_BASE + 2 * RING_CONTROL_LENGTH, PAGE);

  /** The ring the client writes and the server reads. */
  static final int CLIENT_TO_SERVER = 0;
  /** The ring the server writes and the client reads. */
  static final int SERVER_TO_CLIENT = 1;

  static final int MIN_CAPACITY = PAGE;
  static final int MAX_CAPACITY = 1 << 30;

  private SegmentDescriptor() {}

  static long ringControlOffset(int ring) {
    return RING_CONTROL_BASE + (long) ring * RING_CONTROL_LENGTH;
  }

  static long ringDataOffset(int ring, int capacity) {
    return CONTROL_LENGTH + (long) ring * capacity;
  }

  static long segmentLength(int capacity) {
    return CONTROL_LENGTH + 2L * capacity;
  }

  /**
   * Checks a ring capacity: a power of two between {@link #MIN_CAPACITY} and {@link #MAX_CAPACITY}.
   *
   * @param what how the value is introduced in the message, e.g. {@code "transport option ringSize="}
   * @throws IllegalArgumentException saying which bound is broken
   */
  static int checkCapacity(long capacity, String what) {
    if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || Long.bitCount(capacity) != 1) {
      throw new IllegalArgumentException(
          what + capacity + " is not a power of two between " + MIN_CAPACITY + " and " + MAX_CAPACITY
              + " bytes (e.g. 64k, 1m, 4m)");
    }
    return (int) capacity;
  }

  static int align(int value, int alignment) {
    return (value + alignment - 1) & -alignment;
  }
}
