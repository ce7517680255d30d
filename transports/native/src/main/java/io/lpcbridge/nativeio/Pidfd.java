package io.lpcbridge.nativeio;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;

/**
 * {@code pidfd_open(2)}: a descriptor for a process that any process (not only its parent) can
 * poll: it turns readable ({@link Fds#POLLIN}) when the process terminates. Transports whose
 * channel has no end-of-file (message queues) use it to notice a peer's death at once.
 */
public final class Pidfd {
  private static final long SYS_PIDFD_OPEN = 434; // the same number on every architecture
  private static final MethodHandle SYSCALL =
      Libc.LINKER.downcallHandle(
          Libc.LOOKUP.find("syscall").orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol 'syscall'")),
          FunctionDescriptor.of(Libc.C_LONG, Libc.C_LONG, Libc.C_LONG, Libc.C_LONG),
          Linker.Option.captureCallState("errno"),
          Linker.Option.firstVariadicArg(1));

  private Pidfd() {}

  /**
   * Opens a pidfd for {@code pid}.
   *
   * @throws NativeException {@code ESRCH} when no such process exists (it has already exited),
   *     {@code ENOSYS} on kernels before 5.3
   */
  public static int open(int pid) throws NativeException {
    long rc;
    try {
      rc = (long) SYSCALL.invokeExact(Fds.callState(), SYS_PIDFD_OPEN, (long) pid, 0L);
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
    if (rc < 0) {
      throw Libc.error("pidfd_open(" + pid + ")", Libc.errno(Fds.callState()));
    }
    return (int) rc;
  }
}
