package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.Futex;
import io.lpcbridge.nativeio.NativeException;

/**
 * {@link IdleStrategy#BLOCK}: spin for a fixed time, then sleep on this side's {@link Doorbell}
 * until the peer rings it. Subclasses choose the spin time per wait.
 */
class BlockingIdler extends Idler {
  private final Doorbell doorbell;
  private final long fixedSpinNanos;

  /** When the current idle period began, or -1 while busy. */
  private long idleSince = -1;
  /** The spin time of the current idle period. */
  private long spinNanos;
  /** Whether the current idle period got as far as sleeping. */
  private boolean slept;

  BlockingIdler(Doorbell doorbell, long spinNanos) {
    this.doorbell = doorbell;
    this.fixedSpinNanos = spinNanos;
  }

  @Override
  final void idle(Condition condition, long maxSleepNanos) throws NativeException {
    long now = System.nanoTime();
    if (idleSince < 0) {
      idleSince = now;
      slept = false;
      spinNanos = spinNanosForThisWait();
    }
    if (now - idleSince < spinNanos) {
      Thread.onSpinWait();
      return;
    }
    slept = true;
    int prepared = doorbell.prepare();
    if (condition.ready()) {
      return;
    }
    long sleep = Math.max(1, Math.min(maxSleepNanos, MAX_SLEEP_NANOS));
    if (doorbell.await(prepared, sleep) == Futex.TIMED_OUT && sleep == MAX_SLEEP_NANOS && condition.ready()) {
      countLateWakeup();
    }
  }

  @Override
  final void busy() {
    if (idleSince >= 0) {
      waited(System.nanoTime() - idleSince, slept);
      idleSince = -1;
    }
  }

  /** The spin time for the idle period that is starting. */
  long spinNanosForThisWait() {
    return fixedSpinNanos;
  }

  /** An idle period ended after {@code nanos}, with or without a sleep. */
  void waited(long nanos, boolean slept) {}
}
