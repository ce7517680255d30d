package io.lpcbridge.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The watchdog replaces a reader thread stuck in deferred work, and only then: a task that waits in
 * Java, one that keeps the CPU, and one blocked in a native call for many stall times get their
 * reader replaced; one blocked natively for a few stall times (as a preempted or paused thread
 * looks) does not. Each test drives a {@link ReadRole} as a transport's read loop does, with a
 * queue of tasks for its messages.
 */
class ReadRoleTest {
  private static final long STALL = ReadRole.STALL_NANOS;

  private final ReadRole role = new ReadRole();
  /** What the "connection" delivers: each is run by the reader thread, which defers it. */
  private final BlockingQueue<Runnable> inbound = new LinkedBlockingQueue<>();
  private final ExecutorService fallback = Executors.newFixedThreadPool(2);
  private volatile boolean open = true;

  @AfterEach
  void close() throws InterruptedException {
    open = false;
    fallback.shutdownNow();
    assertTrue(fallback.awaitTermination(10, TimeUnit.SECONDS));
  }

  private void startReader() {
    role.startReader("test reader", () -> {
      role.lock();
      try {
        while (open) {
          Runnable delivered = inbound.poll(10, TimeUnit.MILLISECONDS);
          if (delivered != null) {
            delivered.run();
          }
          if (!role.runDeferred()) {
            return; // replaced: the new reader carries on
          }
        }
        role.endDeferral();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        role.unlockIfHeld();
      }
    });
  }

  /** Delivers a message whose handling is {@code task}, deferred to the reader as the bridge's executor does. */
  private void deliver(Runnable task) {
    inbound.add(() -> {
      if (!ReadRole.defer(task, fallback)) {
        fallback.execute(task);
      }
    });
  }

  /** The thread that handles a message delivered now. */
  private Thread nextHandler() throws InterruptedException {
    AtomicReference<Thread> ran = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(1);
    deliver(() -> {
      ran.set(Thread.currentThread());
      done.countDown();
    });
    assertTrue(done.await(10, TimeUnit.SECONDS), "a message after the stuck task was handled");
    return ran.get();
  }

  private Thread firstHandler() throws InterruptedException {
    Thread reader = nextHandler();
    assertEquals(role.currentReader(), reader, "deferred work runs on the reader thread");
    return reader;
  }

  @Test
  void aTaskThatWaitsGetsItsReaderReplaced() throws Exception {
    startReader();
    Thread reader = firstHandler();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    deliver(() -> {
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread next = nextHandler();
    assertNotEquals(reader, next, "the message after a blocked task was handled elsewhere");
    assertNotEquals(reader, role.currentReader(), "a new reader thread reads");
    release.countDown();
  }

  @Test
  void aTaskThatKeepsTheCpuGetsItsReaderReplaced() throws Exception {
    startReader();
    Thread reader = firstHandler();
    CountDownLatch started = new CountDownLatch(1);
    deliver(() -> {
      started.countDown();
      long end = System.nanoTime() + 200 * STALL;
      while (System.nanoTime() < end && open) {
        Thread.onSpinWait();
      }
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    assertNotEquals(reader, nextHandler(), "the message after a computing task was handled elsewhere");
  }

  @Test
  void aTaskBlockedInANativeCallIsGivenTwentyStallTimesThenItsReaderIsReplaced() throws Exception {
    startReader();
    Thread reader = firstHandler();
    // A few stall times runnable but off the CPU, as a preempted or paused reader looks: kept.
    blockNatively(3 * STALL);
    Thread after = nextHandler();
    assertEquals(reader, after, "a reader off the CPU for 3 stall times was not replaced");
    // Far longer than the runnable bound: replaced.
    CountDownLatch started = new CountDownLatch(1);
    Pipe pipe = Pipe.open();
    deliver(() -> {
      started.countDown();
      readOneByte(pipe);
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread next = nextHandler();
    assertNotEquals(reader, next, "the message after a task blocked natively was handled elsewhere");
    pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
  }

  @Test
  void aTaskWaitingInAnInlineReceiveGetsItsReaderReplaced() throws Exception {
    startReader();
    Thread reader = firstHandler();
    ReadRole other = new ReadRole();
    waitInline(other, STALL); // warm: classes loaded and call sites linked here, not on the task's CPU time
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch returned = new CountDownLatch(1);
    deliver(() -> {
      started.countDown();
      waitInline(other, 10 * STALL);
      returned.countDown();
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread next = nextHandler();
    assertEquals(1, returned.getCount(), "handled while the inline receive still waited");
    assertNotEquals(reader, next, "the message after a task waiting in an inline receive was handled elsewhere");
    assertTrue(returned.await(10, TimeUnit.SECONDS));
  }

  /**
   * A handler making a blocking call over another connection: an inline receive on {@code other}
   * for {@code nanos}, whose wait is native (a poll), so the JVM shows the thread runnable.
   */
  private static void waitInline(ReadRole other, long nanos) {
    try (java.nio.channels.Selector selector = java.nio.channels.Selector.open()) {
      other.receiveInline(
          () -> false, nanos, () -> true, () -> {},
          wait -> {
            selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait)));
            return true;
          },
          t -> {});
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Defers a task that reads a pipe in a blocking native read for {@code nanos}, and waits for it. */
  private void blockNatively(long nanos) throws Exception {
    Pipe pipe = Pipe.open();
    pipe.sink().write(ByteBuffer.wrap(new byte[] {0}));
    readOneByte(pipe); // warm: not on the task's CPU time
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Thread.State> seen = new AtomicReference<>();
    AtomicReference<Thread> blocked = new AtomicReference<>();
    deliver(() -> {
      blocked.set(Thread.currentThread());
      started.countDown();
      readOneByte(pipe);
      done.countDown();
    });
    assertTrue(started.await(10, TimeUnit.SECONDS));
    TimeUnit.NANOSECONDS.sleep(nanos / 2);
    seen.set(blocked.get().getState());
    TimeUnit.NANOSECONDS.sleep(nanos / 2);
    pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertNotNull(seen.get());
    assertEquals(Thread.State.RUNNABLE, seen.get(), "a thread in a native read looks runnable to the JVM");
  }

  private static void readOneByte(Pipe pipe) {
    try {
      pipe.source().read(ByteBuffer.allocate(1));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
