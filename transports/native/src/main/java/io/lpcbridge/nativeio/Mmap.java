package io.lpcbridge.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Shared mappings of a file descriptor ({@code mmap(2)} with {@code MAP_SHARED}), as {@link
 * MemorySegment}s whose arena unmaps them.
 *
 * <p>Closing the arena is what unmaps: for a shared arena the JVM first makes sure no thread is
 * still accessing the segment (a thread that tries afterwards gets an {@code
 * IllegalStateException}, not a crash), which is why mappings are tied to an arena instead of being
 * unmapped by hand.
 */
public final class Mmap {
  private static final int PROT_READ = 0x1;
  private static final int PROT_WRITE = 0x2;
  private static final int MAP_SHARED = 0x01;
  private static final long MAP_FAILED = -1L;

  private static final MethodHandle MMAP =
      Libc.downcall(
          "mmap",
          FunctionDescriptor.of(
              Libc.C_POINTER, Libc.C_POINTER, Libc.C_SIZE_T, Libc.C_INT, Libc.C_INT, Libc.C_INT, Libc.C_LONG));
  private static final MethodHandle MUNMAP =
      Libc.downcallNoErrno("munmap", FunctionDescriptor.of(Libc.C_INT, Libc.C_POINTER, Libc.C_SIZE_T));

  private Mmap() {}

  /**
   * Maps {@code length} bytes of {@code fd} from offset 0, readable and writable, shared with every
   * other mapping of the same file. The descriptor may be closed afterwards; the mapping stays
   * until {@code arena} is closed.
   *
   * @throws NativeException if the kernel refuses (EACCES for a read-only descriptor, ENOMEM...)
   */
  public static MemorySegment mapShared(int fd, long length, Arena arena) throws NativeException {
    if (length <= 0) {
      throw new IllegalArgumentException("mapping length " + length + " must be positive");
    }
    MemorySegment address;
    try (Arena call = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(call);
      address = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
      if (address.address() == MAP_FAILED) {
        throw Libc.error("mmap(fd " + fd + ", " + length + " bytes, MAP_SHARED)", Libc.errno(state));
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("mmap downcall failed", t);
    }
    long base = address.address();
    return address.reinterpret(length, arena, unused -> unmap(base, length));
  }

  private static void unmap(long base, long length) {
    try {
      int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(base), length);
      if (rc != 0) {
        System.getLogger(Mmap.class.getName())
            .log(System.Logger.Level.WARNING, "munmap of {0} bytes at 0x{1} failed", length, Long.toHexString(base));
      }
    } catch (Throwable t) {
      throw new IllegalStateException("munmap downcall failed", t);
    }
  }
}
