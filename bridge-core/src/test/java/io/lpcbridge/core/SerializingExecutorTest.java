package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class SerializingExecutorTest {
  /** Counts hand-offs to the delegate and runs them on a pool. */
  static final class CountingPool implements java.util.concurrent.Executor {
    final AtomicInteger handoffs = new AtomicInteger();
    final ExecutorService pool = Executors.newFixedThreadPool(2);

    @Override
    public void execute(Runnable r) {
      handoffs.incrementAndGet();
      pool.execute(r);
    }
  }

  @Test
  void aBatchHandsItsTasksOverOnce() throws Exception {
    CountingPool pool = new CountingPool();
    SerializingExecutor call = new SerializingExecutor(pool);
    List<String> ran = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    SerializingExecutor.batch(
        () -> {
          call.execute(() -> ran.add("headers"));
          call.execute(() -> ran.add("message"));
          call.execute(
              () -> {
                ran.add("close");
                done.countDown();
              });
          assertEquals(0, pool.handoffs.get(), "held until the batch ends");
        });
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertEquals(List.of("headers", "message", "close"), ran);
    assertEquals(1, pool.handoffs.get());
    pool.pool.shutdown();
  }

  @Test
  void outsideABatchTasksGoStraightThrough() {
    List<String> ran = new ArrayList<>();
    SerializingExecutor direct = new SerializingExecutor(Runnable::run);
    direct.execute(() -> ran.add("a"));
    assertEquals(List.of("a"), ran);
  }

  @Test
  void tasksFromOtherThreadsWaitBehindHeldOnes() throws Exception {
    List<String> ran = new CopyOnWriteArrayList<>();
    SerializingExecutor call = new SerializingExecutor(Runnable::run);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch otherSubmitted = new CountDownLatch(1);
    Thread reader =
        new Thread(
            () ->
                SerializingExecutor.batch(
                    () -> {
                      call.execute(() -> ran.add("first"));
                      held.countDown();
                      try {
                        otherSubmitted.await(10, TimeUnit.SECONDS);
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }));
    reader.start();
    assertTrue(held.await(10, TimeUnit.SECONDS));
    call.execute(() -> ran.add("second")); // another thread, while "first" is held
    assertEquals(List.of(), ran, "nothing may overtake the held task");
    otherSubmitted.countDown();
    reader.join(10_000);
    assertEquals(List.of("first", "second"), ran);
  }

  @Test
  void nestedBatchesJoinTheOutermost() {
    List<String> ran = new ArrayList<>();
    SerializingExecutor call = new SerializingExecutor(Runnable::run);
    SerializingExecutor.batch(
        () -> {
          SerializingExecutor.batch(() -> call.execute(() -> ran.add("inner")));
          assertEquals(List.of(), ran);
        });
    assertEquals(List.of("inner"), ran);
  }

  @Test
  void aRefusingDelegateLosesNoOtherCallsTasks() {
    List<String> ran = new ArrayList<>();
    SerializingExecutor refusing =
        new SerializingExecutor(
            r -> {
              throw new java.util.concurrent.RejectedExecutionException("shut down");
            });
    SerializingExecutor other = new SerializingExecutor(Runnable::run);
    java.util.concurrent.RejectedExecutionException thrown =
        org.junit.jupiter.api.Assertions.assertThrows(
            java.util.concurrent.RejectedExecutionException.class,
            () ->
                SerializingExecutor.batch(
                    () -> {
                      refusing.execute(() -> ran.add("refused"));
                      other.execute(() -> ran.add("other"));
                    }));
    assertEquals("shut down", thrown.getMessage());
    assertEquals(List.of("other"), ran, "the executor after the refusing one still got its task");
    // The refusing executor is not wedged: a later submission tries its delegate again.
    org.junit.jupiter.api.Assertions.assertThrows(
        java.util.concurrent.RejectedExecutionException.class, () -> refusing.execute(() -> ran.add("again")));
  }

  @Test
  void aThreadsTasksKeepTheirOrderAcrossAnotherThreadsBatch() throws Exception {
    // One thread submits numbered tasks while another keeps opening batches that hold the
    // executor's tasks: the numbers must run in order, whichever way the two interleave.
    int n = 20_000;
    List<Integer> ran = new ArrayList<>();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    SerializingExecutor call = new SerializingExecutor(pool);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread batcher =
        new Thread(
            () -> {
              while (!stop.get()) {
                SerializingExecutor.batch(() -> call.execute(() -> {}));
              }
            });
    batcher.start();
    try {
      for (int i = 0; i < n; i++) {
        int k = i;
        call.execute(() -> ran.add(k));
      }
      CountDownLatch done = new CountDownLatch(1);
      call.execute(done::countDown);
      assertTrue(done.await(30, TimeUnit.SECONDS), "every task ran");
    } finally {
      stop.set(true);
      batcher.join();
      pool.shutdown();
    }
    for (int i = 0; i < n; i++) {
      if (ran.get(i) != i) {
        throw new AssertionError("task " + ran.get(i) + " ran at position " + i);
      }
    }
  }

  /**
   * Producers submit in short bursts, so the executor runs dry and its runner lets go over and
   * over, each time racing a producer that links a task and then looks at the running flag. A task
   * lost in that race would wait for a later submission, and the last ones have none after them.
   */
  @Test
  void noTaskIsStrandedWhenTheRunnerLetsGoAsOneIsAdded() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      SerializingExecutor e = new SerializingExecutor(pool);
      int producers = 3;
      int bursts = 3_000;
      AtomicInteger ran = new AtomicInteger();
      List<Thread> threads = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        threads.add(Thread.ofPlatform().start(() -> {
          for (int b = 0; b < bursts; b++) {
            e.execute(ran::incrementAndGet);
            if ((b & 7) == 0) {
              Thread.yield();
            }
          }
        }));
      }
      for (Thread t : threads) {
        t.join();
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (ran.get() < producers * bursts && System.nanoTime() < deadline) {
        Thread.sleep(1);
      }
      assertEquals(producers * bursts, ran.get(), "tasks left in the queue with nobody running it");
    } finally {
      pool.shutdownNow();
    }
  }
}
