package io.lpcbridge.bench;

/**
 * Fixed-rate pacing for one call in flight, with coordinated omission corrected: call {@code i} is
 * due at {@code start + i * interval}. A call that could not start when due because its
 * predecessor was still running is timed from when it was due, so a stall is charged to every call
 * it held back (as wrk2 does). A call that did start when due is timed from its actual start, so
 * the client's own timer slack when it sleeps is not charged to the system under test.
 */
final class Pacer {
  private final long interval;
  private long due;
  private long previousEnd;

  Pacer(double ratePerSecond) {
    this.interval = Math.max(1, (long) (1e9 / ratePerSecond));
    this.due = System.nanoTime() + interval;
  }

  /** Waits for the next call's due time; returns the time the call is to be measured from. */
  long next() {
    long when = due;
    due += interval;
    if (previousEnd > when) {
      return when;
    }
    Window.sleepUntil(when);
    return System.nanoTime();
  }

  /** The call that {@link #next} released has ended at {@code nanos}. */
  void ended(long nanos) {
    previousEnd = nanos;
  }
}
