package io.lpcbridge.nativeio;

import static io.lpcbridge.nativeio.Libc.C_INT;
import static io.lpcbridge.nativeio.Libc.C_LONG;
import static io.lpcbridge.nativeio.Libc.C_POINTER;
import static io.lpcbridge.nativeio.Libc.C_SIZE_T;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Plain file descriptors: read, write, close, dup, fcntl, pipe2, socketpair, open, poll and the
 * few file calls the pipe, FIFO and socketpair transports need.
 *
 * <h2>Buffers</h2>
 *
 * {@link #read} and {@link #write} take heap or direct {@link ByteBuffer}s and move their position
 * like NIO channels do. They are bound with {@link Linker.Option#critical critical(true)}, which
 * lets the kernel copy straight from or into a Java array without a staging copy; that is only
 * allowed for calls that cannot block for long, so they must be used on <b>non-blocking</b>
 * descriptors only (the callers set {@code O_NONBLOCK}). {@link #writev} needs direct buffers.
 *
 * <h2>Errors</h2>
 *
 * Failures are {@link NativeException}s naming the call and its arguments; {@code EINTR} is retried
 * here, and {@code EAGAIN} is a return value ({@link #WOULD_BLOCK}), not an exception.
 */
public final class Fds {
  /** {@link #read} and {@link #write}: the descriptor is non-blocking and not ready. */
  public static final int WOULD_BLOCK = -1;

  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_NOCTTY = 0400;
  public static final int O_APPEND = 02000;
  public static final int O_NONBLOCK = 04000;
  public static final int O_NOFOLLOW = 0400000;
  public static final int O_CLOEXEC = 02000000;

  public static final short POLLIN = 0x001;
  public static final short POLLOUT = 0x004;
  public static final short POLLERR = 0x008;
  public static final short POLLHUP = 0x010;
  public static final short POLLNVAL = 0x020;

  public static final int LOCK_EX = 2;
  public static final int LOCK_NB = 4;
  public static final int LOCK_UN = 8;

  /** File types from {@code st_mode & S_IFMT}. */
  public static final int S_IFMT = 0170000;
  public static final int S_IFIFO = 0010000;
  public static final int S_IFSOCK = 0140000;
  public static final int S_IFREG = 0100000;

  /** errno values this class and its callers test for that {@link Errno} does not name. */
  public static final int ENOTSOCK = 88;
  public static final int ECONNREFUSED = 111;

  private static final int F_DUPFD_CLOEXEC = 1030;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int F_SETPIPE_SZ = 1031;
  private static final int F_GETPIPE_SZ = 1032;
  private static final int AF_UNIX = 1;
  private static final int SOCK_STREAM = 1;
  private static final int SOCK_CLOEXEC = O_CLOEXEC;
  private static final int SHUT_WR = 1;
  private static final int AT_FDCWD = -100;
  private static final int AT_EMPTY_PATH = 0x1000;
  private static final int AT_SYMLINK_NOFOLLOW = 0x100;
  private static final int STATX_TYPE_MODE_INO = 0x1 | 0x2 | 0x100;
  /** struct statx: u16 stx_mode at 28, u32 stx_uid at 20, u64 stx_ino at 32 (same on every arch). */
  private static final int STATX_SIZE = 256;
  private static final long STX_UID = 20;
  private static final long STX_MODE = 28;
  private static final long STX_INO = 32;

  private static final Linker.Option CRITICAL = Linker.Option.critical(true);
  private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

  private static final MethodHandle READ = critical("read", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T));
  private static final MethodHandle WRITE = critical("write", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T));
  private static final MethodHandle WRITEV = Libc.downcall("writev", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_INT));
  private static final MethodHandle CLOSE = Libc.downcall("close", FunctionDescriptor.of(C_INT, C_INT));
  private static final MethodHandle DUP2 = Libc.downcall("dup2", FunctionDescriptor.of(C_INT, C_INT, C_INT));
  private static final MethodHandle FCNTL = Libc.downcall("fcntl", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT));
  private static final MethodHandle PIPE2 = Libc.downcall("pipe2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT));
  private static final MethodHandle SOCKETPAIR =
      Libc.downcall("socketpair", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_INT, C_POINTER));
  private static final MethodHandle SHUTDOWN = Libc.downcall("shutdown", FunctionDescriptor.of(C_INT, C_INT, C_INT));
  private static final MethodHandle OPEN = Libc.downcall("open", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT));
  private static final MethodHandle UNLINK = Libc.downcall("unlink", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle RENAME = Libc.downcall("rename", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
  private static final MethodHandle FLOCK = Libc.downcall("flock", FunctionDescriptor.of(C_INT, C_INT, C_INT));
  private static final MethodHandle POLL = Libc.downcall("poll", FunctionDescriptor.of(C_INT, C_POINTER, C_LONG, C_INT));
  private static final MethodHandle STATX =
      Libc.downcall("statx", FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_INT, C_INT, C_POINTER));

  /** One errno slot per thread: cheaper than an arena per call, and calls never nest. */
  private static final ThreadLocal<MemorySegment> CALL_STATE =
      ThreadLocal.withInitial(() -> Libc.newCallState(Arena.ofAuto()));

  private Fds() {}

  private static MethodHandle critical(String name, FunctionDescriptor descriptor) {
    MemorySegment symbol =
        Libc.LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol '" + name + "'"));
    return Libc.LINKER.downcallHandle(symbol, descriptor, ERRNO, CRITICAL);
  }

  /** The calling thread's errno slot for {@link Libc#downcall} handles. */
  static MemorySegment callState() {
    return CALL_STATE.get();
  }

  /**
   * Reads into {@code dst} from a non-blocking descriptor, advancing its position.
   *
   * @return bytes read; 0 at end of file (or when {@code dst} is full); {@link #WOULD_BLOCK} when
   *     nothing is available now
   */
  public static int read(int fd, ByteBuffer dst) throws NativeException {
    int room = dst.remaining();
    if (room == 0) {
      return 0;
    }
    MemorySegment state = callState();
    MemorySegment target = MemorySegment.ofBuffer(dst);
    while (true) {
      long n;
      try {
        n = (long) READ.invokeExact(state, fd, target, (long) room);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (n >= 0) {
        dst.position(dst.position() + (int) n);
        return (int) n;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.EAGAIN) {
        return WOULD_BLOCK;
      }
      if (errno != Errno.EINTR) {
        throw Libc.error("read(fd " + fd + ")", errno);
      }
    }
  }

  /**
   * Writes from {@code src} to a non-blocking descriptor, advancing its position.
   *
   * @return bytes written, 0 when the descriptor is full (or {@code src} empty)
   * @throws NativeException on failure; {@code EPIPE} when the reading end is closed
   */
  public static int write(int fd, ByteBuffer src) throws NativeException {
    int length = src.remaining();
    if (length == 0) {
      return 0;
    }
    MemorySegment state = callState();
    MemorySegment source = MemorySegment.ofBuffer(src);
    while (true) {
      long n;
      try {
        n = (long) WRITE.invokeExact(state, fd, source, (long) length);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (n >= 0) {
        src.position(src.position() + (int) n);
        return (int) n;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.EAGAIN) {
        return 0;
      }
      if (errno != Errno.EINTR) {
        throw Libc.error("write(fd " + fd + ")", errno);
      }
    }
  }

  /** Bytes one entry of a {@link #writev} vector takes. */
  public static final int IOVEC_BYTES = 16;

  /**
   * Gathers {@code srcs[offset .. offset+length)}, all direct, into one {@code writev}, advancing
   * their positions.
   *
   * @param iovecs scratch memory for at least {@code length} entries of {@link #IOVEC_BYTES}
   * @return bytes written, 0 when the descriptor is full
   */
  public static long writev(int fd, ByteBuffer[] srcs, int offset, int length, MemorySegment iovecs)
      throws NativeException {
    int count = 0;
    for (int i = offset; i < offset + length; i++) {
      ByteBuffer b = srcs[i];
      if (!b.hasRemaining()) {
        continue;
      }
      if (!b.isDirect()) {
        throw new IllegalArgumentException("writev needs direct buffers");
      }
      MemorySegment s = MemorySegment.ofBuffer(b);
      iovecs.set(ValueLayout.ADDRESS, (long) count * IOVEC_BYTES, s);
      iovecs.set(ValueLayout.JAVA_LONG, (long) count * IOVEC_BYTES + 8, s.byteSize());
      count++;
    }
    if (count == 0) {
      return 0;
    }
    MemorySegment state = callState();
    long n;
    while (true) {
      try {
        n = (long) WRITEV.invokeExact(state, fd, iovecs, count);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (n >= 0) {
        break;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.EAGAIN) {
        return 0;
      }
      if (errno != Errno.EINTR) {
        throw Libc.error("writev(fd " + fd + ")", errno);
      }
    }
    long left = n;
    for (int i = offset; i < offset + length && left > 0; i++) {
      ByteBuffer b = srcs[i];
      int step = (int) Math.min(b.remaining(), left);
      b.position(b.position() + step);
      left -= step;
    }
    return n;
  }

  /** Closes {@code fd}. {@code EINTR} is not retried: on Linux the descriptor is gone either way. */
  public static void close(int fd) throws NativeException {
    int rc;
    try {
      rc = (int) CLOSE.invokeExact(callState(), fd);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    if (rc < 0 && Libc.errno(callState()) != Errno.EINTR) {
      throw Libc.error("close(fd " + fd + ")", Libc.errno(callState()));
    }
  }

  /** Closes {@code fd}, ignoring failure; for cleanup paths. Does nothing for a negative fd. */
  public static void closeQuietly(int fd) {
    if (fd >= 0) {
      try {
        close(fd);
      } catch (NativeException ignored) {
        // Nothing more to do on a cleanup path.
      }
    }
  }

  /** A close-on-exec duplicate of {@code fd} numbered {@code minFd} or above. */
  public static int dup(int fd, int minFd) throws NativeException {
    return check(fcntl(fd, F_DUPFD_CLOEXEC, minFd), "fcntl(fd " + fd + ", F_DUPFD_CLOEXEC)");
  }

  /** Makes {@code newFd} a copy of {@code oldFd} (closing what {@code newFd} was). */
  public static void dup2(int oldFd, int newFd) throws NativeException {
    MemorySegment state = callState();
    while (true) {
      int rc;
      try {
        rc = (int) DUP2.invokeExact(state, oldFd, newFd);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (rc >= 0) {
        return;
      }
      if (Libc.errno(state) != Errno.EINTR) {
        throw Libc.error("dup2(" + oldFd + ", " + newFd + ")", Libc.errno(state));
      }
    }
  }

  /** Sets or clears {@code O_NONBLOCK} on the open file description of {@code fd}. */
  public static void setNonBlocking(int fd, boolean on) throws NativeException {
    int flags = check(fcntl(fd, F_GETFL, 0), "fcntl(fd " + fd + ", F_GETFL)");
    int wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (wanted != flags) {
      check(fcntl(fd, F_SETFL, wanted), "fcntl(fd " + fd + ", F_SETFL)");
    }
  }

  /**
   * Asks for a pipe buffer of {@code bytes} ({@code F_SETPIPE_SZ}); the kernel rounds up to a power
   * of two pages, and refuses sizes above {@code /proc/sys/fs/pipe-max-size}, or any growth once
   * the user's pipes hold more than {@code pipe-user-pages-soft}, unless privileged.
   *
   * @return the size the pipe has now
   */
  public static int setPipeSize(int fd, int bytes) throws NativeException {
    return check(fcntl(fd, F_SETPIPE_SZ, bytes), "fcntl(fd " + fd + ", F_SETPIPE_SZ, " + bytes + ")");
  }

  /** The size of the pipe buffer of {@code fd} ({@code F_GETPIPE_SZ}). */
  public static int pipeSize(int fd) throws NativeException {
    return check(fcntl(fd, F_GETPIPE_SZ, 0), "fcntl(fd " + fd + ", F_GETPIPE_SZ)");
  }

  private static int fcntl(int fd, int cmd, int arg) throws NativeException {
    try {
      return (int) FCNTL.invokeExact(callState(), fd, cmd, arg);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * A new pipe, close-on-exec, with {@code extraFlags} (e.g. {@link #O_NONBLOCK}) on both ends.
   *
   * @return {@code {readEnd, writeEnd}}
   */
  public static int[] pipe(int extraFlags) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
      int rc = (int) PIPE2.invokeExact(callState(), fds, O_CLOEXEC | extraFlags);
      check(rc, "pipe2");
      return new int[] {fds.getAtIndex(ValueLayout.JAVA_INT, 0), fds.getAtIndex(ValueLayout.JAVA_INT, 1)};
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** A connected pair of close-on-exec Unix stream sockets. */
  public static int[] socketPair() throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
      int rc = (int) SOCKETPAIR.invokeExact(callState(), AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds);
      check(rc, "socketpair(AF_UNIX, SOCK_STREAM)");
      return new int[] {fds.getAtIndex(ValueLayout.JAVA_INT, 0), fds.getAtIndex(ValueLayout.JAVA_INT, 1)};
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** {@code shutdown(fd, SHUT_WR)}: the peer reads end of file; reading goes on. */
  public static void shutdownOutput(int fd) throws NativeException {
    int rc;
    try {
      rc = (int) SHUTDOWN.invokeExact(callState(), fd, SHUT_WR);
    } catch (Throwable t) {
      throw rethrow(t);
    }
    check(rc, "shutdown(fd " + fd + ", SHUT_WR)");
  }

  /**
   * Opens {@code path}; {@link #O_CLOEXEC} is always added.
   *
   * @throws NativeException naming the path, e.g. {@code ENXIO} for a FIFO opened to write with
   *     {@code O_NONBLOCK} while nobody reads it
   */
  public static int open(Path path, int flags, int mode) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = callState();
      MemorySegment p = Libc.cString(arena, path.toString());
      while (true) {
        int fd = (int) OPEN.invokeExact(state, p, flags | O_CLOEXEC, mode);
        if (fd >= 0) {
          return fd;
        }
        if (Libc.errno(state) != Errno.EINTR) {
          throw Libc.error("open(" + path + ")", Libc.errno(state));
        }
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * Removes {@code path}.
   *
   * @return false if there was nothing to remove
   */
  public static boolean unlink(Path path) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      int rc = (int) UNLINK.invokeExact(callState(), Libc.cString(arena, path.toString()));
      if (rc == 0) {
        return true;
      }
      int errno = Libc.errno(callState());
      if (errno == Errno.ENOENT) {
        return false;
      }
      throw Libc.error("unlink(" + path + ")", errno);
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /** Renames {@code from} to {@code to} atomically, replacing what {@code to} named. */
  public static void rename(Path from, Path to) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      int rc = (int) RENAME.invokeExact(callState(), Libc.cString(arena, from.toString()), Libc.cString(arena, to.toString()));
      check(rc, "rename(" + from + ", " + to + ")");
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * {@code flock(fd, operation)}.
   *
   * @return false when {@link #LOCK_NB} was given and another open file holds the lock
   */
  public static boolean flock(int fd, int operation) throws NativeException {
    MemorySegment state = callState();
    while (true) {
      int rc;
      try {
        rc = (int) FLOCK.invokeExact(state, fd, operation);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (rc == 0) {
        return true;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.EAGAIN) {
        return false;
      }
      if (errno != Errno.EINTR) {
        throw Libc.error("flock(fd " + fd + ")", errno);
      }
    }
  }

  /** Type, permission bits, owner and inode of a file. */
  public record FileStatus(int mode, int uid, long inode) {
    public int type() {
      return mode & S_IFMT;
    }

    public int permissions() {
      return mode & 07777;
    }

    public boolean isFifo() {
      return type() == S_IFIFO;
    }

    public boolean isSocket() {
      return type() == S_IFSOCK;
    }
  }

  /** The status of the file {@code fd} refers to. */
  public static FileStatus status(int fd) throws NativeException {
    return statx(AT_FDCWD, fd, null);
  }

  /**
   * The status of {@code path} itself (a symbolic link is not followed).
   *
   * @return null if nothing is there
   */
  public static FileStatus status(Path path) throws NativeException {
    try {
      return statx(AT_FDCWD, -1, path);
    } catch (NativeException e) {
      if (e.errno() == Errno.ENOENT) {
        return null;
      }
      throw e;
    }
  }

  private static FileStatus statx(int dirFd, int fd, Path path) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buf = arena.allocate(STATX_SIZE, 8);
      int rc;
      if (path == null) {
        rc = (int) STATX.invokeExact(callState(), fd, arena.allocateFrom(""), AT_EMPTY_PATH, STATX_TYPE_MODE_INO, buf);
        check(rc, "statx(fd " + fd + ")");
      } else {
        rc = (int) STATX.invokeExact(callState(), dirFd, Libc.cString(arena, path.toString()), AT_SYMLINK_NOFOLLOW, STATX_TYPE_MODE_INO, buf);
        check(rc, "statx(" + path + ")");
      }
      return new FileStatus(
          Short.toUnsignedInt(buf.get(ValueLayout.JAVA_SHORT, STX_MODE)),
          buf.get(ValueLayout.JAVA_INT, STX_UID),
          buf.get(ValueLayout.JAVA_LONG, STX_INO));
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  /**
   * A set of descriptors to {@link #poll} together. Not thread-safe: owned by the thread that polls
   * (the reader thread of a connection), reused for every poll.
   */
  public static final class PollSet {
    private static final int POLLFD_BYTES = 8;
    private final MemorySegment fds;
    private final int size;

    /** A set of {@code size} entries, all unused ({@code fd = -1}) until {@link #set}. */
    public PollSet(int size) {
      this.size = size;
      this.fds = Arena.ofAuto().allocate((long) size * POLLFD_BYTES, 8);
      for (int i = 0; i < size; i++) {
        set(i, -1, (short) 0);
      }
    }

    /** Entry {@code i} waits for {@code events} on {@code fd}; a negative fd is skipped by poll. */
    public void set(int i, int fd, short events) {
      Objects.checkIndex(i, size);
      fds.set(ValueLayout.JAVA_INT, (long) i * POLLFD_BYTES, fd);
      fds.set(ValueLayout.JAVA_SHORT, (long) i * POLLFD_BYTES + 4, events);
      fds.set(ValueLayout.JAVA_SHORT, (long) i * POLLFD_BYTES + 6, (short) 0);
    }

    /** Changes only the events of entry {@code i}. */
    public void events(int i, short events) {
      fds.set(ValueLayout.JAVA_SHORT, (long) Objects.checkIndex(i, size) * POLLFD_BYTES + 4, events);
    }

    /** What poll reported for entry {@code i}. */
    public short revents(int i) {
      return fds.get(ValueLayout.JAVA_SHORT, (long) Objects.checkIndex(i, size) * POLLFD_BYTES + 6);
    }

    /**
     * Waits for any entry to be ready. {@code EINTR} returns 0 (callers loop anyway).
     *
     * @param timeoutMillis -1 for no timeout
     * @return the number of ready entries, 0 on timeout
     */
    public int poll(int timeoutMillis) throws NativeException {
      MemorySegment state = callState();
      int rc;
      try {
        rc = (int) POLL.invokeExact(state, fds, (long) size, timeoutMillis);
      } catch (Throwable t) {
        throw rethrow(t);
      }
      if (rc < 0) {
        int errno = Libc.errno(state);
        if (errno == Errno.EINTR) {
          for (int i = 0; i < size; i++) {
            fds.set(ValueLayout.JAVA_SHORT, (long) i * POLLFD_BYTES + 6, (short) 0);
          }
          return 0;
        }
        throw Libc.error("poll", errno);
      }
      return rc;
    }
  }

  private static int check(int rc, String what) throws NativeException {
    if (rc < 0) {
      throw Libc.error(what, Libc.errno(callState()));
    }
    return rc;
  }

  /** Downcalls throw only what the native code cannot: linkage errors, out of memory. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      throw r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("unexpected checked exception from a downcall", t);
  }
}
