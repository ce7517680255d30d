package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

class TaskQueueTest {

  @Test
  void tasksComeOutInTheOrderTheyWentIn() {
    TaskQueue q = new TaskQueue();
    assertTrue(q.isEmpty());
    assertNull(q.poll());
    Runnable a = () -> {};
    Runnable b = () -> {};
    q.add(a);
    q.add(b);
    assertFalse(q.isEmpty());
    assertSame(a, q.poll());
    assertSame(b, q.poll());
    assertNull(q.poll());
    assertTrue(q.isEmpty());
    q.add(a);
    assertSame(a, q.poll());
  }

  /** One item of the stress test: which producer added it, and its sequence number there. */
  private record Item(int producer, int seq) implements Runnable {
    @Override
    public void run() {}
  }

  @Test
  void manyProducersLoseNothingAndKeepEachOnesOrder() throws Exception {
    int producers = 4;
    int each = 200_000;
    TaskQueue q = new TaskQueue();
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int id = p;
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      go.await();
                    } catch (InterruptedException e) {
                      return;
                    }
                    for (int i = 0; i < each; i++) {
                      q.add(new Item(id, i));
                    }
                  }));
    }
    int[] next = new int[producers];
    int received = 0;
    go.countDown();
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (received < producers * each) {
      Runnable r = q.poll();
      if (r == null) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("only " + received + " of " + producers * each + " tasks came out in 60 s");
        }
        Thread.onSpinWait();
        continue;
      }
      Item item = (Item) r;
      assertEquals(next[item.producer()], item.seq(), "producer " + item.producer() + "'s tasks out of order");
      next[item.producer()]++;
      received++;
    }
    for (Thread t : threads) {
      t.join();
    }
    assertNull(q.poll());
    assertTrue(q.isEmpty());
  }
}
