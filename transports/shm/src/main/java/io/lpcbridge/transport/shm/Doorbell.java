package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.Futex;
import io.lpcbridge.nativeio.NativeException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * An eventcount on a 32-bit futex word in the segment: how one side's reader thread sleeps without
 * losing a wake-up, and how the other side avoids a system call when nobody sleeps.
 *
 * <pre>
 *  bit 31 ........................................ 1    0
 *  +-------------------------------------------------+----+
 *  |        epoch: counts the wake-ups               | W  |   W = the owner is asleep or about to be
 *  +-------------------------------------------------+----+
 * </pre>
 *
 * <b>Owner</b> (the one thread that sleeps on this doorbell): {@link #prepare} sets W and returns the
 * word, the owner checks its condition once more, and only then {@link #await}s with that value.
 * <b>Anyone else</b>, after making the condition true, calls {@link #ring}: a full fence, then, only
 * if W is set, a compare-and-set that bumps the epoch and clears W, and one {@code FUTEX_WAKE}.
 *
 * <p>Why nothing is lost: the owner's compare-and-set of W and the ringer's fence each order a store
 * before a load (Dekker's pattern). Either the owner's re-check sees the condition, or the ringer
 * sees W. In the second case the ringer changes the word, so an owner that has not reached {@code
 * FUTEX_WAIT} yet finds a value other than the one it expects and returns at once (the kernel
 * compares and sleeps atomically), and an owner already asleep is woken. A plain "sleeping" flag
 * that the ringer clears without a generation count loses exactly that first case.
 *
 * <p>A hostile peer can write anything into the word: the owner then wakes early or sleeps until
 * its timeout, and the peer only slows its own connection.
 */
final class Doorbell {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
  private static final int WAITING = 1;
  private static final int EPOCH_STEP = 2;

  private final MemorySegment word;

  /** @param word a 4-byte, 4-aligned slice of the shared segment */
  Doorbell(MemorySegment word) {
    this.word = word;
  }

  /**
   * Owner: announces that it is about to sleep. Check the condition once more after this and call
   * {@link #await} with the returned value only if it is still false.
   */
  int prepare() {
    while (true) {
      int v = (int) INT.getVolatile(word, 0L);
      if ((v & WAITING) != 0) {
        // Already announced (an earlier wait that was not answered): still fence before the re-check.
        VarHandle.fullFence();
        return v;
      }
      // Volatile compare-and-set: a full fence on its own.
      if (INT.compareAndSet(word, 0L, v, v | WAITING)) {
        return v | WAITING;
      }
    }
  }

  /**
   * Owner: sleeps until rung, the word changes, or {@code timeoutNanos} pass.
   *
   * @return one of {@link Futex}'s results
   */
  int await(int prepared, long timeoutNanos) throws NativeException {
    return Futex.await(word, prepared, timeoutNanos);
  }

  /**
   * Anyone: wakes the owner if it announced a sleep. Costs a fence when it does not.
   *
   * @return true if a wake-up was sent
   */
  boolean ring() throws NativeException {
    // Full fence: the caller's stores (a Tail, a Need Space, a closing flag) before the read below.
    VarHandle.fullFence();
    int v = (int) INT.getVolatile(word, 0L);
    while ((v & WAITING) != 0) {
      if (INT.compareAndSet(word, 0L, v, (v + EPOCH_STEP) & ~WAITING)) {
        Futex.wake(word, 1);
        return true;
      }
      v = (int) INT.getVolatile(word, 0L);
    }
    return false;
  }
}
