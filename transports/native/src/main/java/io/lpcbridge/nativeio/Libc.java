package io.lpcbridge.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The C library through Java 25's Foreign Function and Memory API: the one place the OS transports
 * bind libc symbols (netty's {@code transport-native-unix-common} is the model). Each binding class
 * in this package ({@code Futex}, {@code EventFd}, {@code Fifos}, {@code MessageQueues}...) builds its
 * method handles with {@link #downcall} and turns failures into {@link NativeException}s with {@link
 * #error}.
 *
 * <p>Every downcall made here captures {@code errno} in a per-call state segment, because the JVM
 * may itself call libc (and overwrite errno) between a native call and a later read of errno.
 */
public final class Libc {
  static final Linker LINKER = Linker.nativeLinker();
  static final SymbolLookup LOOKUP = LINKER.defaultLookup();
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
  private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

  public static final ValueLayout.OfInt C_INT = ValueLayout.JAVA_INT;
  public static final ValueLayout.OfLong C_LONG = ValueLayout.JAVA_LONG;
  public static final ValueLayout.OfLong C_SIZE_T = ValueLayout.JAVA_LONG;
  public static final java.lang.foreign.AddressLayout C_POINTER = ValueLayout.ADDRESS;

  private static final MethodHandle STRERROR =
      LINKER.downcallHandle(
          LOOKUP.find("strerror").orElseThrow(), FunctionDescriptor.of(C_POINTER.withTargetLayout(MemoryLayout.sequenceLayout(1024, ValueLayout.JAVA_BYTE)), C_INT));

  private Libc() {}

  /**
   * A handle for libc function {@code name} whose first argument is a call-state segment from
   * {@link #newCallState}; errno after the call is read from it with {@link #errno}.
   *
   * @throws UnsatisfiedLinkError naming the symbol if libc lacks it
   */
  public static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
    MemorySegment symbol =
        LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol '" + name + "'"));
    return LINKER.downcallHandle(symbol, descriptor, CAPTURE_ERRNO);
  }

  /** A handle for a libc function that cannot fail (no errno capture). */
  public static MethodHandle downcallNoErrno(String name, FunctionDescriptor descriptor) {
    MemorySegment symbol =
        LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol '" + name + "'"));
    return LINKER.downcallHandle(symbol, descriptor);
  }

  /** A call-state segment for {@link #downcall} handles, allocated in {@code arena}. */
  public static MemorySegment newCallState(Arena arena) {
    return arena.allocate(CALL_STATE);
  }

  /** errno as captured by the last call made with {@code callState}. */
  public static int errno(MemorySegment callState) {
    return (int) ERRNO.get(callState, 0L);
  }

  /** The C library's description of {@code errno}, e.g. "No such file or directory". */
  public static String strerror(int errno) {
    try {
      MemorySegment s = (MemorySegment) STRERROR.invokeExact(errno);
      return s.getString(0);
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  /**
   * The exception for a failed call: {@code "<what> failed: ENOENT (No such file or directory)"}.
   *
   * @param what the call and its important arguments, e.g. {@code mkfifo(/run/x)}
   */
  public static NativeException error(String what, int errno) {
    return new NativeException(what, errno);
  }

  /** A NUL-terminated copy of {@code s} in {@code arena}. */
  public static MemorySegment cString(Arena arena, String s) {
    return arena.allocateFrom(s);
  }
}
