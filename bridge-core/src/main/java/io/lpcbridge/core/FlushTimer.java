package io.lpcbridge.core;

import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The backstop for corked messages ({@link Cork}): a callback that sends a
 * message and then blocks (a handler reporting progress before a long computation) must not hold
 * the message until it returns. One daemon thread per process flushes any stream whose corked
 * frames have waited {@link #DELAY_NANOS}.
 *
 * <p>A stream is armed once per batch, when its buffer turns from empty to corked, and forgotten
 * when the timer finds it flushed; a stream that keeps streaming stays armed and costs the timer
 * thread one wake-up per delay, not one per message.
 */
final class FlushTimer {
  private static final Logger log = Logger.getLogger(FlushTimer.class.getName());

  /** How long a corked message may wait for the callback that sent it to return. */
  static final long DELAY_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

  /** {@link #DELAY_NANOS}, or what a test that counts batches set (see {@link #delayForTests}). */
  private static volatile long delayNanos = DELAY_NANOS;

  private static final DelayQueue<Entry> QUEUE = new DelayQueue<>();

  static {
    Thread t = new Thread(FlushTimer::run, "lpc-bridge-flush-timer");
    t.setDaemon(true);
    t.start();
  }

  private FlushTimer() {}

  /** The delay in force. */
  static long delay() {
    return delayNanos;
  }

  /**
   * Tests that count transport messages lengthen the delay, so that a slow first run (interpreted
   * code, class loading) does not let the timer split their batches; 0 restores the default.
   */
  static void delayForTests(long nanos) {
    delayNanos = nanos == 0 ? DELAY_NANOS : nanos;
  }

  /** Flushes {@code stream}'s corked frames at {@code due} (System.nanoTime) unless gone by then. */
  static void schedule(WireStream stream, long due) {
    QUEUE.offer(new Entry(stream, due));
  }

  private static void run() {
    while (true) {
      Entry e;
      try {
        e = QUEUE.take();
      } catch (InterruptedException ex) {
        // Nobody interrupts this thread on purpose; keep serving.
        continue;
      }
      try {
        long next = e.stream.flushIfDue(System.nanoTime());
        if (next != 0) {
          QUEUE.offer(new Entry(e.stream, next));
        }
      } catch (RuntimeException ex) {
        log.log(Level.WARNING, "flushing corked messages of " + e.stream + " failed", ex);
      }
    }
  }

  private record Entry(WireStream stream, long due) implements Delayed {
    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(due - System.nanoTime(), TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(due - ((Entry) o).due, 0);
    }
  }
}
