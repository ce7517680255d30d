package io.lpcbridge.transport.shm;

/**
 * {@link IdleStrategy#ADAPTIVE}: a {@link BlockingIdler} that notices, wait by wait, which of issue
 * 3's two cases it is in, and spins only where spinning can pay.
 *
 * <ul>
 *   <li>The peer's reader last ran on this thread's CPU ({@link CpuHint}): no spin, sleep at once.
 *       A peer that shares the CPU cannot answer while this thread spins, so a spin only delays the
 *       answer it waits for (34 µs instead of 2.7 µs per round trip in the measurements;
 *       a busy-spin makes it milliseconds).
 *   <li>Otherwise: spin up to {@link #SPIN_NANOS}, then sleep. With a CPU each, an answer within
 *       the spin costs no system call and no wake-up (0.57 µs instead of 78 µs). A peer that takes
 *       longer costs at most one spin of CPU per wait.
 * </ul>
 *
 * <p>Why not learn the spin from experience, as HotSpot's adaptive spinning does: in a ping-pong,
 * whether one side's spin catches the answer depends on whether the <em>other</em> side is awake.
 * A learner that shrinks its spin after waits that ended in a sleep drives both sides to sleep,
 * after which every wait includes the other's futex wake-up, looks like a failed spin again, and
 * the pair never recovers (measured: 90-150 µs instead of 3-5 µs per RPC round trip).
 */
final class AdaptiveIdler extends BlockingIdler {
  static final long SPIN_NANOS = 20_000;

  private final CpuHint cpus;

  AdaptiveIdler(Doorbell doorbell, CpuHint cpus) {
    super(doorbell, SPIN_NANOS);
    this.cpus = cpus;
  }

  @Override
  long spinNanosForThisWait() {
    return cpus.peerSharesMyCpu() ? 0 : SPIN_NANOS;
  }
}
