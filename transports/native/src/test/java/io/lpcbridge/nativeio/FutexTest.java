package io.lpcbridge.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The shared futex operations, on two separate mappings of one memfd: the kernel keys the word by
 * file and offset, so this is what two processes see.
 */
class FutexTest {
  @Test
  void aWakeOnOneMappingEndsAWaitOnTheOther() throws Exception {
    int fd = MemFd.create("lpcbridge-futex-test");
    try (Arena a = Arena.ofShared(); Arena b = Arena.ofShared()) {
      MemFd.truncate(fd, 4096);
      MemorySegment waiterWord = Mmap.mapShared(fd, 4096, a).asSlice(64, 4);
      MemorySegment wakerWord = Mmap.mapShared(fd, 4096, b).asSlice(64, 4);

      CompletableFuture<Integer> waiting =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  // Woken, or the value changed before the wait began: either way the word is read.
                  while (waiterWord.get(ValueLayout.JAVA_INT, 0) == 0) {
                    if (Futex.await(waiterWord, 0, TimeUnit.SECONDS.toNanos(20)) == Futex.TIMED_OUT) {
                      return -1;
                    }
                  }
                  return waiterWord.get(ValueLayout.JAVA_INT, 0);
                } catch (NativeException e) {
                  throw new IllegalStateException(e);
                }
              });
      // Give the waiter time to fall asleep, so the wake below has someone to wake; keep waking
      // until it is done in case it had not.
      Thread.sleep(200);
      wakerWord.set(ValueLayout.JAVA_INT, 0, 7);
      int woken = 0;
      while (!waiting.isDone()) {
        woken += Futex.wake(wakerWord, 1);
        Thread.sleep(1);
      }
      assertEquals(7, waiting.get(20, TimeUnit.SECONDS));
      assertEquals(1, woken, "the waiter slept on its own mapping and was woken through the other one");
    } finally {
      MemFd.close(fd);
    }
  }

  @Test
  void waitReturnsAtOnceWhenTheValueDiffersAndTimesOut() throws Exception {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment word = arena.allocate(ValueLayout.JAVA_INT);
      word.set(ValueLayout.JAVA_INT, 0, 5);
      assertEquals(Futex.VALUE_CHANGED, Futex.await(word, 4, -1));
      long start = System.nanoTime();
      assertEquals(Futex.TIMED_OUT, Futex.await(word, 5, TimeUnit.MILLISECONDS.toNanos(20)));
      assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(15), "slept for the timeout");
      assertEquals(0, Futex.wake(word, 1), "nobody waits");
    }
  }

  @Test
  void misalignedOrHeapWordsAreRefused() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment word = arena.allocate(8, 8);
      assertThrows(IllegalArgumentException.class, () -> Futex.wake(word.asSlice(1, 4), 1));
      assertThrows(IllegalArgumentException.class, () -> Futex.wake(MemorySegment.ofArray(new int[1]), 1));
    }
  }
}
