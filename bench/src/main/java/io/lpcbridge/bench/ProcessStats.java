package io.lpcbridge.bench;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * This process's own accounting, read by the process itself: CPU time (all threads, including
 * those that have ended), and voluntary and involuntary context switches from {@code
 * getrusage(RUSAGE_SELF)}, with a breakdown of the voluntary ones by thread name from {@code
 * /proc/self/task/}.
 *
 * <p>A voluntary context switch is a thread giving up its CPU to wait (for a socket, a lock, a
 * condition). Every cross-thread hand-off on a call's path is one: the receiving thread slept and
 * must be woken. Counted per call over thousands of calls, they count the wake-ups per call.
 *
 * @param cpuNanos CPU time of the process, user and system
 * @param voluntary voluntary context switches of all threads so far
 * @param involuntary involuntary context switches (preemptions)
 * @param threads voluntary switches of each live thread, keyed {@code "TID group"} (the group is
 *     the thread's name with trailing digits dropped, {@link #group}): per thread, so that a thread
 *     that ends between two readings drops out of their difference instead of making it negative
 * @param compileMillis time the JIT compilers have spent so far (-1 when unknown): a warm-up is
 *     over only once it stops growing
 */
record ProcessStats(long cpuNanos, long voluntary, long involuntary, Map<String, Long> threads, long compileMillis) {

  private static final Getrusage RUSAGE = Getrusage.load();

  /** Reads this process's counters now. */
  static ProcessStats self() {
    long cpu = processCpuNanos();
    long[] cs = RUSAGE != null ? RUSAGE.switches() : null;
    Map<String, Long> threads = threadSwitches();
    if (cs == null) {
      long v = threads.values().stream().mapToLong(Long::longValue).sum();
      cs = new long[] {v, -1};
    }
    return new ProcessStats(cpu, cs[0], cs[1], threads, jitMillis());
  }

  /** Time this process's JIT compilers have spent so far, or -1 when the JVM does not say. */
  static long jitMillis() {
    java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
  }

  private static long processCpuNanos() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }

  /** Voluntary switches per live thread, from /proc/self/task/TID/{comm,status}. */
  private static Map<String, Long> threadSwitches() {
    Map<String, Long> out = new HashMap<>();
    try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
      for (Path task : tasks) {
        try {
          String name = group(Files.readString(task.resolve("comm")).trim());
          long v = 0;
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.startsWith("voluntary_ctxt_switches:")) {
              v = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
          }
          out.put(task.getFileName() + " " + name, v);
        } catch (IOException | NumberFormatException e) {
          // The thread ended while we looked.
        }
      }
    } catch (IOException e) {
      // No /proc: no breakdown.
    }
    return out;
  }

  /**
   * Threads of the JVM itself (compilers, collectors, housekeeping) and of the harness's own
   * control (and the socket/udp floor's watchdog, which wakes every 100 ms): never on a call's
   * path, and left out of {@link #pathVoluntary}. The JIT compiler threads in particular wake often
   * while code is still being compiled.
   */
  private static final java.util.List<String> OFF_PATH = java.util.List.of(
      "C1 CompilerThre", "C2 CompilerThre", "G1 ", "GC Thread", "VM Thread", "VM Periodic", "Service Thread", "Monitor Deflati",
      "Common-Cleaner", "Signal Dispatch", "Finalizer", "Reference Handl", "Notification Th", "Attach Listener", "JFR ",
      "bench-control", "bench-parent-wa", "bench-server-st", "bench-watchdog", "java");

  static boolean onPath(String group) {
    return OFF_PATH.stream().noneMatch(group::startsWith);
  }

  /**
   * Voluntary switches between {@code before} and {@code after} of the threads that may be on a
   * call's path (see {@link #onPath}), summed by thread group: each thread's own difference, the
   * whole count of a thread started since, nothing of one that ended.
   */
  static Map<String, Long> pathVoluntary(ProcessStats before, ProcessStats after) {
    Map<String, Long> out = new java.util.TreeMap<>();
    after.threads.forEach((key, v) -> {
      String group = key.substring(key.indexOf(' ') + 1);
      if (onPath(group)) {
        out.merge(group, Math.max(0, v - before.threads.getOrDefault(key, 0L)), Long::sum);
      }
    });
    return out;
  }

  /** {@code bridge-default-executor-3} and {@code GC Thread#1} become {@code bridge-default-executor} and {@code GC Thread}. */
  static String group(String comm) {
    int end = comm.length();
    while (end > 0 && (Character.isDigit(comm.charAt(end - 1)) || "-#_ ".indexOf(comm.charAt(end - 1)) >= 0)) {
      end--;
    }
    return end == 0 ? comm : comm.substring(0, end);
  }

  /** getrusage(2) over FFM: counts of threads that have already ended are kept, unlike /proc/self/task. */
  private record Getrusage(MethodHandle handle) {
    private static final int RUSAGE_SELF = 0;
    /** struct rusage on Linux x86-64/aarch64: two timevals (16 bytes each), then 14 longs. */
    private static final int SIZE = 144;
    private static final long NVCSW = 128;
    private static final long NIVCSW = 136;

    @SuppressWarnings("restricted")
    static Getrusage load() {
      try {
        Linker linker = Linker.nativeLinker();
        MethodHandle h =
            linker.downcallHandle(
                linker.defaultLookup().find("getrusage").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        Getrusage g = new Getrusage(h);
        return g.switches() != null ? g : null;
      } catch (RuntimeException | Error e) {
        // No native access (--enable-native-access missing) or no libc symbol: fall back to /proc.
        return null;
      }
    }

    long[] switches() {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment usage = arena.allocate(SIZE, 8);
        int rc = (int) handle.invokeExact(RUSAGE_SELF, usage);
        if (rc != 0) {
          return null;
        }
        return new long[] {usage.get(ValueLayout.JAVA_LONG, NVCSW), usage.get(ValueLayout.JAVA_LONG, NIVCSW)};
      } catch (Throwable t) {
        return null;
      }
    }
  }
}
