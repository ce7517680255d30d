package io.lpcbridge.transport.shm;

import java.util.concurrent.locks.LockSupport;

/**
 * {@link IdleStrategy#YIELD}: spin, then {@link Thread#yield()}, then {@link LockSupport#parkNanos}
 * doubling from 1 µs to 1 ms, as Agrona's {@code BackoffIdleStrategy} does (written out here
 * because Agrona needs {@code --add-exports} in every launcher that would load it). The peer never
 * has to wake this side; a local close or the peer's death unparks the thread.
 */
final class BackoffIdler extends Idler {
  private static final int MAX_SPINS = 100;
  private static final int MAX_YIELDS = 50;
  private static final long MIN_PARK_NANOS = 1_000;
  private static final long MAX_PARK_NANOS = 1_000_000;

  private int spins;
  private int yields;
  private long parkNanos = MIN_PARK_NANOS;

  @Override
  void idle(Condition condition, long maxSleepNanos) {
    if (spins < MAX_SPINS) {
      spins++;
      Thread.onSpinWait();
    } else if (yields < MAX_YIELDS) {
      yields++;
      Thread.yield();
    } else {
      LockSupport.parkNanos(Math.min(parkNanos, Math.max(1, maxSleepNanos)));
      parkNanos = Math.min(parkNanos * 2, MAX_PARK_NANOS);
    }
  }

  @Override
  void busy() {
    spins = 0;
    yields = 0;
    parkNanos = MIN_PARK_NANOS;
  }
}
