package io.lpcbridge.nativeio;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/** Scheduler facts for idle strategies: which CPU the calling thread runs on. */
public final class Sched {
  private static final MethodHandle SCHED_GETCPU = lookup();

  private Sched() {}

  private static MethodHandle lookup() {
    try {
      return Libc.downcallNoErrno("sched_getcpu", FunctionDescriptor.of(Libc.C_INT));
    } catch (Throwable t) {
      return null;
    }
  }

  /**
   * The CPU the calling thread was running on a moment ago ({@code sched_getcpu(3)}, answered from
   * the vDSO or rseq without a system call on Linux), or -1 when it cannot be told. The thread may
   * have moved by the time the answer is used: treat it as a hint.
   */
  public static int currentCpu() {
    if (SCHED_GETCPU == null) {
      return -1;
    }
    try {
      return (int) SCHED_GETCPU.invokeExact();
    } catch (Throwable t) {
      return -1;
    }
  }
}
