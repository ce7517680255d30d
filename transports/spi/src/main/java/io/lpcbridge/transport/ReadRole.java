package io.lpcbridge.transport;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The right to read a connection, shared between its reader thread and threads in {@link
 * Connection#receiveInline}: a helper for transports that offer {@link Capability#INLINE_RECEIVE}.
 *
 * <p>The reader thread holds the role while it reads and waits. At the top of its loop it asks
 * {@link #readerShouldStandAside()}; if so it calls {@link #standAside}, which gives the role up and
 * parks until no thread wants it and none has had it for {@link #GRACE_NANOS}. An inline receiver
 * announces itself, makes the holder let go (the transport's own wake-up: a selector wake-up, a
 * doorbell), takes the role and reads as the reader thread would, until its condition holds. A
 * thread that makes one blocking call after another thus keeps the role, and the reader thread
 * sleeps meanwhile.
 *
 * <p>The reader thread must hold the role (once) from its first read until it has released what an
 * inline receiver would touch (a channel, a mapping), so that nobody reads after that.
 */
public final class ReadRole {
  /**
   * How long the reader thread stays aside after an inline receive that ended with its condition
   * met. Bounds the delay of what arrives for nobody in particular (a GOAWAY, the end of the
   * stream) while a caller that made one blocking call is about to make the next.
   */
  public static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** The longest an inline receiver waits at a time: a native poll or futex ignores interrupts. */
  public static final long SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** One read, or one wait of at most the given time, by the holder of the role. */
  @FunctionalInterface
  public interface Step {
    /** @return false to stop: the end of the stream or the peer's, which the reader thread reports */
    boolean run(long maxWaitNanos) throws Exception;
  }

  private final ReentrantLock lock = new ReentrantLock();
  /** Threads in receiveInline. */
  private final AtomicInteger wanted = new AtomicInteger();
  /** When the last inline receive ended; 0 after wake(). */
  private volatile long lastInlineNanos;
  /** The reader thread stands aside, parked. */
  private volatile boolean readerAside;
  private volatile Thread readerThread;

  /** The connection's reader thread, before it starts. */
  public void readerThread(Thread reader) {
    this.readerThread = reader;
  }

  /** Takes the role, waiting for an inline receiver to finish. */
  public void lock() {
    lock.lock();
  }

  public void unlock() {
    lock.unlock();
  }

  /** Whether inline receivers want the role, now or probably soon. */
  public boolean readerShouldStandAside() {
    return wanted.get() > 0 || inGrace();
  }

  /** Whether a thread is in, or waiting to enter, an inline receive. */
  public boolean inlineWanted() {
    return wanted.get() > 0;
  }

  private boolean inGrace() {
    long last = lastInlineNanos;
    return last != 0 && System.nanoTime() - last < GRACE_NANOS;
  }

  /**
   * Called by the reader thread, holding the role once: gives it up, parks while inline receivers
   * want it and {@code open} holds, and takes it back.
   */
  public void standAside(BooleanSupplier open) {
    lock.unlock();
    readerAside = true;
    try {
      while (open.getAsBoolean() && readerShouldStandAside()) {
        LockSupport.parkNanos(this, GRACE_NANOS);
      }
    } finally {
      readerAside = false;
      lock.lock();
    }
  }

  /**
   * The body of {@link Connection#receiveInline}: takes the role (running {@code wakeHolder} if
   * another thread holds it) and runs {@code step} until {@code done} holds, the time is up, the
   * thread is interrupted, {@code open} turns false or {@code step} says stop. A throwable from
   * {@code step} goes to {@code fail}, which fails the connection.
   *
   * @return false if nothing was done: not {@code open}, or called by the reader thread or from
   *     within an inline receive
   */
  public boolean receiveInline(
      BooleanSupplier done, long timeoutNanos, BooleanSupplier open, Runnable wakeHolder, Step step, Consumer<Throwable> fail) {
    if (lock.isHeldByCurrentThread() || Thread.currentThread() == readerThread || !open.getAsBoolean()) {
      return false;
    }
    long start = System.nanoTime();
    boolean met = false;
    wanted.incrementAndGet();
    try {
      if (!lock.tryLock()) {
        wakeHolder.run(); // the reader thread holds the role, maybe asleep: make it let go
        lock.lock();
      }
      try {
        while (!(met = done.getAsBoolean()) && open.getAsBoolean()) {
          long left = timeoutNanos - (System.nanoTime() - start);
          if (left <= 0 || Thread.currentThread().isInterrupted()) {
            break; // an interrupt is the caller's to handle (the blocking stub cancels the call)
          }
          if (!step.run(Math.min(left, SLICE_NANOS))) {
            break;
          }
        }
      } catch (Throwable t) {
        // As on the reader thread: a read error or a throwing handler fails the connection.
        fail.accept(t);
      } finally {
        lock.unlock();
      }
    } finally {
      lastInlineNanos = System.nanoTime();
      wanted.decrementAndGet();
      if (!met) {
        wake(wakeHolder); // the reader thread takes over at once
      }
    }
    return true;
  }

  /**
   * The body of {@link Connection#wakeReceivers}: ends the grace period, runs {@code wakeInline}
   * if a thread is in an inline receive, and unparks the reader thread if it stands aside.
   */
  public void wake(Runnable wakeInline) {
    if (lastInlineNanos != 0) {
      lastInlineNanos = 0; // no store when there is no grace period to end: called for every async call
    }
    if (wanted.get() > 0) {
      wakeInline.run();
    }
    if (readerAside) {
      LockSupport.unpark(readerThread);
    }
  }
}
