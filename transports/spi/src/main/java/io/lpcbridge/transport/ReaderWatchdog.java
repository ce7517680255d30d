package io.lpcbridge.transport;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The one thread that replaces reader threads stuck in deferred work ({@link ReadRole#runDeferred}).
 *
 * <p>It looks every {@link #TICK_NANOS} (or half the stall time, if a stress test set it lower)
 * while some reader thread runs deferred work, and sleeps
 * once none has for {@link #IDLE_TICKS} looks, so an idle process pays nothing for it. Going to
 * sleep and being woken follow Dekker's pattern on two volatile variables: a reader thread sets its
 * phase and then reads {@link #sleeping}; the watchdog sets {@code sleeping} and then reads every
 * phase once more. Sequential consistency means at least one sees the other's write, so a busy
 * reader is never left unwatched.
 */
final class ReaderWatchdog {
  static final long TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
  static final int IDLE_TICKS = 200;

  private static final Set<ReadRole.Reader> READERS = ConcurrentHashMap.newKeySet();
  private static volatile boolean sleeping;
  private static volatile Thread thread;

  private ReaderWatchdog() {}

  static void register(ReadRole.Reader r) {
    READERS.add(r);
    if (thread == null) {
      start();
    }
  }

  static void unregister(ReadRole.Reader r) {
    READERS.remove(r);
  }

  /** Called by a reader thread after it entered the running-deferred phase. */
  static void busy() {
    if (sleeping) {
      sleeping = false;
      Thread t = thread;
      if (t != null) {
        LockSupport.unpark(t);
      }
    }
  }

  private static synchronized void start() {
    if (thread == null) {
      thread = Thread.ofPlatform().daemon().name("bridge-reader-watchdog").stackSize(256 * 1024).start(ReaderWatchdog::run);
    }
  }

  private static void run() {
    int idle = 0;
    while (true) {
      if (scan()) {
        idle = 0;
      } else if (++idle >= IDLE_TICKS) {
        sleeping = true;
        if (!scan()) {
          while (sleeping) {
            LockSupport.park(ReaderWatchdog.class);
          }
        }
        sleeping = false;
        idle = 0;
      }
      LockSupport.parkNanos(ReaderWatchdog.class, Math.max(10_000, Math.min(TICK_NANOS, ReadRole.stallNanos / 2)));
    }
  }

  /** Replaces stalled reader threads; whether any reader thread is (still) running deferred work. */
  private static boolean scan() {
    long now = System.nanoTime();
    boolean busy = false;
    for (ReadRole.Reader r : READERS) {
      try {
        busy |= ReadRole.replaceIfStalled(r, now);
      } catch (RuntimeException | Error e) {
        // Out of threads, say: this reader stays stalled; the watchdog goes on for the others.
        Thread t = Thread.currentThread();
        t.getUncaughtExceptionHandler().uncaughtException(t, e);
      }
    }
    return busy;
  }
}
