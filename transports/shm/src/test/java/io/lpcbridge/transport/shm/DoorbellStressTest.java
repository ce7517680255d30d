package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lpcbridge.nativeio.MemFd;
import io.lpcbridge.nativeio.Mmap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.SplittableRandom;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The eventcount under stress: two threads play ping-pong through two doorbells on two separate
 * mappings of one memfd (the kernel keys futexes by file and offset, so this is what two processes
 * see). Each side sleeps on every wait (spin 0) or spins a random short time, so wake-ups race with
 * falling asleep in every order. A lost wake-up would leave a side asleep until the 1 s safety
 * timeout; those are counted and must be zero.
 */
class DoorbellStressTest {
  private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
  private static final int ROUNDS = 100_000;

  @Test
  void pingPongThroughDoorbellsLosesNoWakeup() throws Exception {
    int fd = MemFd.create("lpcbridge-doorbell-stress");
    try (Arena a = Arena.ofShared(); Arena b = Arena.ofShared()) {
      MemFd.truncate(fd, 4096);
      MemorySegment left = Mmap.mapShared(fd, 4096, a);
      MemorySegment right = Mmap.mapShared(fd, 4096, b);
      // Layout: bell of side 0 at 128, bell of side 1 at 256, counter 0 at 384, counter 1 at 512.
      FutureTask<Long> ping = new FutureTask<>(() -> play(left, 0));
      FutureTask<Long> pong = new FutureTask<>(() -> play(right, 1));
      Thread.ofPlatform().daemon().name("ping").start(ping);
      Thread.ofPlatform().daemon().name("pong").start(pong);
      long late = ping.get(60, TimeUnit.SECONDS) + pong.get(60, TimeUnit.SECONDS);
      assertEquals(0, late, "sleeps ended by the safety timeout with the peer's move waiting: lost wake-ups");
    } finally {
      MemFd.close(fd);
    }
  }

  /** Side 0 moves first; each side waits for the other's counter to reach its round, then moves. */
  private static long play(MemorySegment s, int side) {
    Doorbell mine = new Doorbell(s.asSlice(128 + 128L * side, 4));
    Doorbell theirs = new Doorbell(s.asSlice(128 + 128L * (1 - side), 4));
    long myCounter = 384 + 128L * side;
    long theirCounter = 384 + 128L * (1 - side);
    SplittableRandom random = new SplittableRandom(side);
    // Mostly no spin, so nearly every wait sleeps; sometimes a short one, so wakes race with it.
    BlockingIdler idle =
        new BlockingIdler(mine, 0) {
          @Override
          long spinNanosForThisWait() {
            return random.nextInt(8) == 0 ? random.nextInt(5_000) : 0;
          }
        };
    try {
      for (long round = 1; round <= ROUNDS; round++) {
        long wanted = side == 0 ? round - 1 : round;
        while ((long) LONG.getAcquire(s, theirCounter) < wanted) {
          idle.idle(() -> (long) LONG.getVolatile(s, theirCounter) >= wanted, Idler.MAX_SLEEP_NANOS);
        }
        idle.busy();
        LONG.setRelease(s, myCounter, round);
        theirs.ring();
      }
      return idle.lateWakeups();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
