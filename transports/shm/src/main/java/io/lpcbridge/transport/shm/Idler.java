package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.NativeException;
import java.util.concurrent.TimeUnit;

/**
 * The waiting half of an {@link IdleStrategy}, owned by one connection's reader thread. The reader
 * loop calls {@link #idle} each time a pass found nothing to do and {@link #busy} when a pass did
 * something; an idler decides whether to spin, yield, park or sleep on the doorbell.
 */
abstract class Idler {
  /** Everything that would give the reader thread work, re-checked before sleeping. */
  @FunctionalInterface
  interface Condition {
    boolean ready();
  }

  /**
   * The longest a futex sleep lasts even if nobody rings. Not needed for correctness (peer death
   * and local closes ring the doorbell too); it bounds the damage of a peer that scribbles over the
   * doorbell word, and sleeps that end by this timeout with work waiting are counted, so a lost
   * wake-up shows up in {@link #lateWakeups()} instead of as a slow test.
   */
  static final long MAX_SLEEP_NANOS = TimeUnit.SECONDS.toNanos(1);

  private long lateWakeups;

  /** One pass found nothing; wait a little or until {@code condition} may be true. */
  abstract void idle(Condition condition, long maxSleepNanos) throws NativeException;

  /** A pass found work. */
  abstract void busy();

  /** Sleeps that ended by timeout with work waiting: lost or late wake-ups. */
  final long lateWakeups() {
    return lateWakeups;
  }

  final void countLateWakeup() {
    lateWakeups++;
  }

  /** The idler for {@code strategy}. */
  static Idler create(IdleStrategy strategy, long spinNanos, Doorbell own, CpuHint cpus) {
    return switch (strategy) {
      case SPIN -> new SpinIdler();
      case YIELD -> new BackoffIdler();
      case BLOCK -> new BlockingIdler(own, spinNanos);
      case ADAPTIVE -> new AdaptiveIdler(own, cpus);
    };
  }

  /** {@link IdleStrategy#SPIN}. */
  static final class SpinIdler extends Idler {
    @Override
    void idle(Condition condition, long maxSleepNanos) {
      Thread.onSpinWait();
    }

    @Override
    void busy() {}
  }
}
