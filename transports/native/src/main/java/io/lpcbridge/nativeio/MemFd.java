package io.lpcbridge.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * Anonymous shared memory files ({@code memfd_create(2)}) and the calls that size, seal and close
 * them. A memfd has no name in any file system, so nothing is left behind in {@code /dev/shm} when
 * its holders die; it is shared by passing the descriptor over a Unix socket (SCM_RIGHTS).
 *
 * <h2>Seals</h2>
 *
 * A process that maps a file another process can shrink risks SIGBUS, which kills a JVM, on the
 * next access past the new end. {@link #SEAL_SHRINK} and {@link #SEAL_GROW} fix the size for good;
 * {@link #SEAL_SEAL} stops anyone from changing the seals. A receiver checks them with {@link
 * #seals} before it maps.
 */
public final class MemFd {
  /** MFD_CLOEXEC: the descriptor is not inherited by programs this process executes. */
  private static final int MFD_CLOEXEC = 0x0001;
  /** MFD_ALLOW_SEALING: seals may be added (without it, F_SEAL_SEAL is set at creation). */
  private static final int MFD_ALLOW_SEALING = 0x0002;

  private static final int F_ADD_SEALS = 1024 + 9;
  private static final int F_GET_SEALS = 1024 + 10;
  private static final int SEEK_END = 2;

  /** F_SEAL_SEAL: no further seals may be added or removed. */
  public static final int SEAL_SEAL = 0x0001;
  /** F_SEAL_SHRINK: the file can no longer be made smaller. */
  public static final int SEAL_SHRINK = 0x0002;
  /** F_SEAL_GROW: the file can no longer be made larger. */
  public static final int SEAL_GROW = 0x0004;
  /** F_SEAL_WRITE: the contents can no longer be written. */
  public static final int SEAL_WRITE = 0x0008;

  private static final MethodHandle MEMFD_CREATE =
      Libc.downcall("memfd_create", FunctionDescriptor.of(Libc.C_INT, Libc.C_POINTER, Libc.C_INT));
  private static final MethodHandle FTRUNCATE =
      Libc.downcall("ftruncate", FunctionDescriptor.of(Libc.C_INT, Libc.C_INT, Libc.C_LONG));
  private static final MethodHandle LSEEK =
      Libc.downcall("lseek", FunctionDescriptor.of(Libc.C_LONG, Libc.C_INT, Libc.C_LONG, Libc.C_INT));
  private static final MethodHandle CLOSE = Libc.downcall("close", FunctionDescriptor.of(Libc.C_INT, Libc.C_INT));
  /** int fcntl(int fd, int cmd, ...): the seal commands take one int after cmd. */
  private static final MethodHandle FCNTL_INT =
      Libc.LINKER.downcallHandle(
          Libc.LOOKUP.find("fcntl").orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol 'fcntl'")),
          FunctionDescriptor.of(Libc.C_INT, Libc.C_INT, Libc.C_INT, Libc.C_INT),
          Linker.Option.captureCallState("errno"),
          Linker.Option.firstVariadicArg(2));

  private MemFd() {}

  /**
   * Creates a memfd, close-on-exec, that allows sealing; its size is 0 until {@link #truncate}.
   *
   * @param name shown in {@code /proc/PID/maps} and {@code /proc/PID/fd} as {@code memfd:NAME}; at
   *     most 249 bytes
   * @return the file descriptor
   */
  public static int create(String name) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(arena);
      int fd = (int) MEMFD_CREATE.invokeExact(state, Libc.cString(arena, name), MFD_CLOEXEC | MFD_ALLOW_SEALING);
      if (fd < 0) {
        throw Libc.error("memfd_create(" + name + ")", Libc.errno(state));
      }
      return fd;
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("memfd_create downcall failed", t);
    }
  }

  /** Sets the size of {@code fd} to {@code size} bytes ({@code ftruncate(2)}). */
  public static void truncate(int fd, long size) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(arena);
      int rc = (int) FTRUNCATE.invokeExact(state, fd, size);
      if (rc != 0) {
        throw Libc.error("ftruncate(fd " + fd + ", " + size + ")", Libc.errno(state));
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("ftruncate downcall failed", t);
    }
  }

  /** The size of the file behind {@code fd}, in bytes. */
  public static long size(int fd) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(arena);
      long end = (long) LSEEK.invokeExact(state, fd, 0L, SEEK_END);
      if (end < 0) {
        throw Libc.error("lseek(fd " + fd + ", 0, SEEK_END)", Libc.errno(state));
      }
      return end;
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("lseek downcall failed", t);
    }
  }

  /** Adds {@code seals} (a mask of the {@code SEAL_*} constants) to {@code fd}. */
  public static void addSeals(int fd, int seals) throws NativeException {
    int rc = fcntl(fd, F_ADD_SEALS, seals, "fcntl(fd " + fd + ", F_ADD_SEALS, " + seals + ")");
    if (rc != 0) {
      throw new IllegalStateException("fcntl(F_ADD_SEALS) returned " + rc);
    }
  }

  /** The seals on {@code fd}, a mask of the {@code SEAL_*} constants. */
  public static int seals(int fd) throws NativeException {
    return fcntl(fd, F_GET_SEALS, 0, "fcntl(fd " + fd + ", F_GET_SEALS)");
  }

  private static int fcntl(int fd, int cmd, int arg, String what) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(arena);
      int rc = (int) FCNTL_INT.invokeExact(state, fd, cmd, arg);
      if (rc < 0) {
        throw Libc.error(what, Libc.errno(state));
      }
      return rc;
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("fcntl downcall failed", t);
    }
  }

  /** Closes {@code fd} ({@code close(2)}); mappings made from it stay valid. */
  public static void close(int fd) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(arena);
      int rc = (int) CLOSE.invokeExact(state, fd);
      if (rc != 0) {
        throw Libc.error("close(fd " + fd + ")", Libc.errno(state));
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException("close downcall failed", t);
    }
  }
}
