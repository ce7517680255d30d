package io.lpcbridge.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.Optional;

/**
 * Linux futexes on 32-bit words in shared memory: {@code syscall(SYS_futex, ...)} with {@code
 * FUTEX_WAIT} and {@code FUTEX_WAKE}.
 *
 * <p>The operations are the <em>shared</em> ones (without {@code FUTEX_PRIVATE_FLAG}): the kernel
 * keys the word by the file and offset behind the mapping, so a waiter and a waker in different
 * processes, each with its own mapping of one {@code MAP_SHARED} file or memfd, meet on it.
 *
 * <p>glibc has no wrapper, so the calls go through {@code syscall(2)}, which is variadic: every
 * argument after the system call number is passed as a C {@code long} or pointer, as glibc reads
 * them.
 */
public final class Futex {
  /** The wait ended because a waker woke it (or spuriously: callers re-check their condition). */
  public static final int WOKEN = 0;
  /** The word did not hold the expected value when the wait began (EAGAIN). */
  public static final int VALUE_CHANGED = 1;
  /** The timeout passed (ETIMEDOUT). */
  public static final int TIMED_OUT = 2;
  /** A signal interrupted the wait (EINTR). */
  public static final int INTERRUPTED = 3;

  private static final int FUTEX_WAIT = 0;
  private static final int FUTEX_WAKE = 1;
  private static final long SYS_FUTEX = sysFutex(System.getProperty("os.arch", ""));
  private static final long NANOS_PER_SECOND = 1_000_000_000L;

  private static final Throwable UNAVAILABLE;
  private static final MethodHandle SYSCALL;

  static {
    Throwable cause = null;
    MethodHandle h = null;
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      cause = new UnsupportedOperationException("futexes are Linux only; this is " + System.getProperty("os.name"));
    } else if (SYS_FUTEX < 0) {
      cause = new UnsupportedOperationException(
          "the futex system call number is not known for architecture " + System.getProperty("os.arch")
              + " (known: amd64, aarch64)");
    } else {
      try {
        // long syscall(long number, ...): uaddr, op, val, timeout, uaddr2, val3
        h =
            Libc.LINKER.downcallHandle(
                Libc.LOOKUP.find("syscall").orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol 'syscall'")),
                FunctionDescriptor.of(
                    Libc.C_LONG, Libc.C_LONG, Libc.C_POINTER, Libc.C_LONG, Libc.C_LONG, Libc.C_POINTER, Libc.C_POINTER, Libc.C_LONG),
                Linker.Option.captureCallState("errno"),
                Linker.Option.firstVariadicArg(1));
      } catch (Throwable t) {
        cause = t;
      }
    }
    UNAVAILABLE = cause;
    SYSCALL = h;
  }

  /** Per-thread scratch memory: the errno capture state and a {@code struct timespec}. */
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private record Scratch(MemorySegment callState, MemorySegment timespec) {
    Scratch() {
      this(Libc.newCallState(Arena.ofAuto()), Arena.ofAuto().allocate(2 * Long.BYTES, Long.BYTES));
    }
  }

  private Futex() {}

  private static long sysFutex(String arch) {
    return switch (arch) {
      case "amd64", "x86_64" -> 202;
      case "aarch64", "arm64" -> 98;
      default -> -1;
    };
  }

  /** Whether futexes can be used here. */
  public static boolean isSupported() {
    return UNAVAILABLE == null;
  }

  /** Why {@link #isSupported()} is false. */
  public static Optional<Throwable> unavailabilityCause() {
    return Optional.ofNullable(UNAVAILABLE);
  }

  /**
   * Sleeps while the 32-bit word at the start of {@code word} holds {@code expected}, until woken,
   * for at most {@code timeoutNanos} (negative: no timeout). The kernel compares and sleeps
   * atomically with respect to {@link #wake}, which is what makes lost wake-ups avoidable.
   *
   * @param word a segment of at least 4 bytes, 4-byte aligned, normally in a shared mapping
   * @return {@link #WOKEN}, {@link #VALUE_CHANGED}, {@link #TIMED_OUT} or {@link #INTERRUPTED}
   * @throws NativeException for any other failure (EFAULT, EINVAL...)
   */
  public static int await(MemorySegment word, int expected, long timeoutNanos) throws NativeException {
    checkWord(word);
    Scratch s = SCRATCH.get();
    MemorySegment timeout = MemorySegment.NULL;
    if (timeoutNanos >= 0) {
      s.timespec.set(Libc.C_LONG, 0, timeoutNanos / NANOS_PER_SECOND);
      s.timespec.set(Libc.C_LONG, Long.BYTES, timeoutNanos % NANOS_PER_SECOND);
      timeout = s.timespec;
    }
    long rc = call(s.callState, word, FUTEX_WAIT, expected & 0xFFFF_FFFFL, timeout);
    if (rc == 0) {
      return WOKEN;
    }
    int errno = Libc.errno(s.callState);
    return switch (errno) {
      case Errno.EAGAIN -> VALUE_CHANGED;
      case Errno.ETIMEDOUT -> TIMED_OUT;
      case Errno.EINTR -> INTERRUPTED;
      default -> throw Libc.error("futex(FUTEX_WAIT, " + word + ")", errno);
    };
  }

  /**
   * Wakes at most {@code count} threads, in any process, sleeping in {@link #await} on the word.
   *
   * @return how many were woken
   * @throws NativeException if the kernel refuses (EFAULT for an address that is not mapped...)
   */
  public static int wake(MemorySegment word, int count) throws NativeException {
    checkWord(word);
    Scratch s = SCRATCH.get();
    long rc = call(s.callState, word, FUTEX_WAKE, count, MemorySegment.NULL);
    if (rc < 0) {
      throw Libc.error("futex(FUTEX_WAKE, " + word + ")", Libc.errno(s.callState));
    }
    return (int) rc;
  }

  private static void checkWord(MemorySegment word) {
    if (UNAVAILABLE != null) {
      throw new UnsupportedOperationException("futexes are not available here: " + UNAVAILABLE.getMessage(), UNAVAILABLE);
    }
    if (!word.isNative() || word.byteSize() < Integer.BYTES || (word.address() & (Integer.BYTES - 1)) != 0) {
      throw new IllegalArgumentException("a futex word must be a native, 4-byte aligned segment of at least 4 bytes: " + word);
    }
  }

  private static long call(MemorySegment callState, MemorySegment word, int op, long val, MemorySegment timeout) {
    try {
      return (long) SYSCALL.invokeExact(callState, SYS_FUTEX, word, (long) op, val, timeout, MemorySegment.NULL, 0L);
    } catch (Throwable t) {
      throw new IllegalStateException("futex downcall failed", t);
    }
  }
}
