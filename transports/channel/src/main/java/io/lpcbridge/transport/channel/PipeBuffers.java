package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.nativeio.ProcFiles;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Larger kernel buffers for the pipes and FIFOs a connection writes to ({@code F_SETPIPE_SZ}).
 *
 * <p>A pipe holds 64 KiB by default. A sender that streams faster than its peer reads fills that
 * within a few batches, and every full pipe costs a round through the reader thread's poll before
 * the rest can go; measured here, server-streaming 1 KiB messages over {@code pipe} rose from about
 * 330,000 to 940,000 messages/s with 1 MiB pipes.
 *
 * <p>Pipe memory is not free: the kernel counts every pipe page of a user against {@code
 * /proc/sys/fs/pipe-user-pages-soft} (64 MiB by default), and once past it, refuses to grow pipes
 * and gives the user's new pipes (any program's, not only ours) two pages. So this process grows
 * pipes only while the growth it holds stays within half of that limit; beyond, new connections
 * keep the kernel's size. Growth is best effort: a refusal is logged and changes nothing else.
 */
public final class PipeBuffers {
  private static final Logger log = Logger.getLogger(PipeBuffers.class.getName());

  /** Transport option: bytes of kernel buffer for each pipe a connection writes to; 0 keeps 64 KiB. */
  public static final String OPTION = "pipeSize";

  public static final int DEFAULT_SIZE = 1024 * 1024;
  private static final int KERNEL_DEFAULT = 64 * 1024;
  private static final long BUDGET = budget();
  private static final AtomicLong granted = new AtomicLong();

  private PipeBuffers() {}

  /** The size {@code options} ask for; refuses a negative one. */
  public static int requested(TransportOptions options) {
    int size = options.getInt(OPTION, DEFAULT_SIZE);
    if (size < 0) {
      throw new IllegalArgumentException("transport option " + OPTION + "=" + size + " is negative");
    }
    return size;
  }

  /**
   * Grows the pipe {@code fd} writes to towards {@code size} bytes, within the budget.
   *
   * @return the growth to give back with {@link #release} when the pipe is closed; 0 if none
   */
  static long grow(int fd, int size) {
    if (size <= KERNEL_DEFAULT) {
      return 0;
    }
    long extra = size - KERNEL_DEFAULT;
    if (granted.addAndGet(extra) > BUDGET) {
      granted.addAndGet(-extra);
      log.fine(() -> "pipe fd " + fd + " keeps its size: this process's pipes hold the budget of " + BUDGET + " bytes");
      return 0;
    }
    try {
      int now = Fds.setPipeSize(fd, size);
      long got = Math.max(0, (long) now - KERNEL_DEFAULT);
      granted.addAndGet(got - extra);
      return got;
    } catch (NativeException e) {
      granted.addAndGet(-extra);
      log.log(Level.FINE, "pipe fd " + fd + " keeps its size: " + e.getMessage());
      return 0;
    }
  }

  /** Gives back growth that {@link #grow} returned. */
  static void release(long growth) {
    if (growth > 0) {
      granted.addAndGet(-growth);
    }
  }

  /** Growth this process holds, for tests. */
  static long granted() {
    return granted.get();
  }

  private static long budget() {
    try {
      long pages = ProcFiles.readLong(Path.of("/proc/sys/fs/pipe-user-pages-soft"));
      // 0 means no limit.
      return pages == 0 ? Long.MAX_VALUE : pages * 4096 / 2;
    } catch (IOException | RuntimeException e) {
      return 16L << 20;
    }
  }
}
