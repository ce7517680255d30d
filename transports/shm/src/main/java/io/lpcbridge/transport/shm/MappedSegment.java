package io.lpcbridge.transport.shm;

import static io.lpcbridge.transport.shm.SegmentDescriptor.CAPACITY_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.CLIENT_CPU_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.CLIENT_PID_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.MAGIC;
import static io.lpcbridge.transport.shm.SegmentDescriptor.MAGIC_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.SEGMENT_LENGTH_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.SERVER_CPU_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.SERVER_PID_OFFSET;
import static io.lpcbridge.transport.shm.SegmentDescriptor.VERSION;
import static io.lpcbridge.transport.shm.SegmentDescriptor.VERSION_OFFSET;

import io.lpcbridge.nativeio.MemFd;
import io.lpcbridge.nativeio.Mmap;
import io.lpcbridge.nativeio.NativeException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One connection's segment, mapped into this process: created by the server in a sealed memfd, or
 * mapped by the client from the descriptor the server passed. {@link #close()} unmaps it; the
 * memory is freed by the kernel once the other side has unmapped too (a memfd has no file name, so
 * nothing outlives the two processes).
 */
final class MappedSegment implements AutoCloseable {
  /** Seals a segment must carry before it is mapped: its size is fixed for good. */
  static final int REQUIRED_SEALS = MemFd.SEAL_SHRINK | MemFd.SEAL_GROW;

  private final Arena arena;
  private final MemorySegment segment;
  private final int capacity;

  private MappedSegment(Arena arena, MemorySegment segment, int capacity) {
    this.arena = arena;
    this.segment = segment;
    this.capacity = capacity;
  }

  /**
   * Server: creates, sizes, seals and maps a memfd for rings of {@code capacity} bytes and writes
   * the header.
   *
   * @return the mapping and the memfd, which the caller passes to the client and then closes
   */
  static Created create(String memfdName, int capacity) throws NativeException {
    long length = SegmentDescriptor.segmentLength(capacity);
    int fd = MemFd.create(memfdName);
    Arena arena = Arena.ofShared();
    try {
      MemFd.truncate(fd, length);
      MemFd.addSeals(fd, REQUIRED_SEALS | MemFd.SEAL_SEAL);
      MemorySegment s = Mmap.mapShared(fd, length, arena);
      // A fresh memfd reads as zeros: positions, doorbells and flags start at 0.
      s.set(ValueLayout.JAVA_INT, MAGIC_OFFSET, MAGIC);
      s.set(ValueLayout.JAVA_INT, VERSION_OFFSET, VERSION);
      s.set(ValueLayout.JAVA_INT, CAPACITY_OFFSET, capacity);
      s.set(ValueLayout.JAVA_LONG, SEGMENT_LENGTH_OFFSET, length);
      s.set(ValueLayout.JAVA_LONG, SERVER_PID_OFFSET, ProcessHandle.current().pid());
      s.set(ValueLayout.JAVA_INT, CLIENT_CPU_OFFSET, -1);
      s.set(ValueLayout.JAVA_INT, SERVER_CPU_OFFSET, -1);
      return new Created(new MappedSegment(arena, s, capacity), fd);
    } catch (NativeException | RuntimeException e) {
      arena.close();
      closeQuietly(fd);
      throw e;
    }
  }

  /** A new segment and its memfd. */
  record Created(MappedSegment segment, int fd) {}

  /**
   * Client: checks and maps the memfd the server passed. The descriptor is not closed here.
   *
   * @param capacity the ring capacity the server announced in its reply
   * @throws ShmProtocolException if the descriptor is not a sealed file of the announced size, or
   *     the header disagrees with the reply
   */
  static MappedSegment map(int fd, int capacity) throws NativeException, ShmProtocolException {
    long expected = SegmentDescriptor.segmentLength(capacity);
    int seals = MemFd.seals(fd);
    if ((seals & REQUIRED_SEALS) != REQUIRED_SEALS) {
      throw new ShmProtocolException(
          "the server's segment is not sealed against resizing (seals 0x" + Integer.toHexString(seals)
              + "): a peer could truncate it and crash this process, so it is refused");
    }
    long size = MemFd.size(fd);
    if (size != expected) {
      throw new ShmProtocolException(
          "the server's segment is " + size + " bytes, but rings of " + capacity + " bytes need " + expected);
    }
    Arena arena = Arena.ofShared();
    try {
      MemorySegment s = Mmap.mapShared(fd, expected, arena);
      int magic = s.get(ValueLayout.JAVA_INT, MAGIC_OFFSET);
      int version = s.get(ValueLayout.JAVA_INT, VERSION_OFFSET);
      int cap = s.get(ValueLayout.JAVA_INT, CAPACITY_OFFSET);
      long length = s.get(ValueLayout.JAVA_LONG, SEGMENT_LENGTH_OFFSET);
      if (magic != MAGIC || version != VERSION || cap != capacity || length != expected) {
        throw new ShmProtocolException(String.format(
            "the server's segment header (magic 0x%08x, version %d, capacity %d, length %d) does not match"
                + " the expected (magic 0x%08x, version %d, capacity %d, length %d)",
            magic, version, cap, length, MAGIC, VERSION, capacity, expected));
      }
      s.set(ValueLayout.JAVA_LONG, CLIENT_PID_OFFSET, ProcessHandle.current().pid());
      return new MappedSegment(arena, s, capacity);
    } catch (NativeException | ShmProtocolException | RuntimeException e) {
      arena.close();
      throw e;
    }
  }

  MemorySegment segment() {
    return segment;
  }

  int capacity() {
    return capacity;
  }

  /** Unmaps. Every thread that touches the segment must be done with it (see {@link ShmConnection}). */
  @Override
  public void close() {
    arena.close();
  }

  static void closeQuietly(int fd) {
    try {
      MemFd.close(fd);
    } catch (NativeException e) {
      // Nothing to do: the descriptor is gone either way.
    }
  }
}
