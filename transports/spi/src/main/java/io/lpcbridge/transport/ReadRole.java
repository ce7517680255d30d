package io.lpcbridge.transport;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
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
 *
 * <h2>Work deferred to the reader thread</h2>
 *
 * Handing what a message asks for to a pool thread costs a wake-up, as much as the transport's
 * own round trip on these machines. So work submitted on a reader thread through {@link #defer}
 * (the bridge's default executor does) runs on that thread once it has delivered what one read
 * returned ({@link #runDeferred}), without the role, before it reads again: a unary call is read,
 * handled and answered on one thread. Work may block; the reader thread is then replaced. A
 * watchdog thread finds a reader thread that has run deferred work for over {@link #STALL_NANOS}
 * and is stuck in it (see below), hands the work still queued to its fallback executors, and starts a new reader thread, which
 * takes the role; the old thread ends when its work returns. The replaced connection then hands
 * work to the pool for a cool-down ({@link #COOL_DOWN_NANOS}, doubling while replacements recur),
 * so a connection whose handlers keep blocking is not slowed on every call.
 *
 * <p>Over the stall time is not enough on a shared, 2-vCPU machine: a garbage-collection pause, or
 * a JIT compiler thread preempting the reader on its vCPU, stretches a short handler past it, and
 * replacing the reader then would only send the next calls to the pool for nothing. So the
 * watchdog replaces a reader thread that has run one batch for over the stall time only when it
 * also sees why: the thread waits (blocked, waiting or sleeping in Java, or in an inline receive,
 * which the JVM shows as runnable) on two looks in a row; or it keeps the CPU for another stall
 * time (a handler that computes); or it has been runnable without that for {@link
 * #RUNNABLE_STALL_FACTOR} stall times (blocked in some other native call, or starved).
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

  /**
   * A deferred-work batch running longer than this, and stuck (see the class comment), gets the
   * reader thread replaced: 1 ms, or the system property {@code io.lpcbridge.readerStallMicros}
   * (for stress tests).
   */
  public static final long STALL_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("io.lpcbridge.readerStallMicros", 1000));

  /**
   * How long a connection defers nothing after its reader thread was replaced, at first: 100 ms,
   * or the system property {@code io.lpcbridge.readerCoolDownMicros} (for stress tests).
   */
  public static final long COOL_DOWN_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("io.lpcbridge.readerCoolDownMicros", 100_000));

  private static final long MAX_COOL_DOWN_NANOS = TimeUnit.SECONDS.toNanos(10);

  /**
   * A reader thread that is runnable without using the CPU (preempted, or blocked in a native call
   * the JVM cannot tell from running) is replaced after this many stall times: 20 ms by default.
   */
  static final int RUNNABLE_STALL_FACTOR = 20;

  /** {@link #STALL_NANOS} and {@link #COOL_DOWN_NANOS}, or what a stress test set. */
  static volatile long stallNanos = STALL_NANOS;
  private static volatile long coolDownStartNanos = COOL_DOWN_NANOS;

  /**
   * Stress tests replace reader threads again and again: a stall time of {@code stall} and a first
   * cool-down of {@code coolDown} nanoseconds; zeros restore the defaults.
   */
  public static void stallForTests(long stall, long coolDown) {
    stallNanos = stall == 0 ? STALL_NANOS : stall;
    coolDownStartNanos = stall == 0 ? COOL_DOWN_NANOS : coolDown;
  }

  /** The reader thread the current thread is, if any (still set once it was replaced). */
  private static final ThreadLocal<Reader> READING = new ThreadLocal<>();

  /** The phases of one reader thread. */
  static final int READING_PHASE = 0;
  static final int RUNNING_DEFERRED = 1;
  static final int REPLACED = 2;
  static final int ENDED = 3;

  /** One reader thread: the watchdog replaces it by compare-and-set of its own phase. */
  static final class Reader {
    final ReadRole role;
    final Thread thread;
    final AtomicInteger phase = new AtomicInteger(READING_PHASE);
    /** When the current deferred batch started. */
    volatile long since;
    /** The thread waits in an inline receive from within deferred work: it is blocked. */
    volatile boolean waiting;
    // Written and read by the watchdog thread only: what it saw of the batch started at watchedSince.
    private long watchedSince;
    private int blockedLooks;
    private long cpuAtFirstLook = -1;

    Reader(ReadRole role, Thread thread) {
      this.role = role;
      this.thread = thread;
    }

    /**
     * Called by the watchdog once the batch started at {@code since} has run for over the stall
     * time: whether the thread is stuck in it, as the class comment says.
     */
    boolean stuck(long since, long now) {
      if (since != watchedSince) {
        watchedSince = since;
        blockedLooks = 0;
        cpuAtFirstLook = -1;
      }
      Thread.State state = thread.getState();
      if (waiting || state == Thread.State.BLOCKED || state == Thread.State.WAITING || state == Thread.State.TIMED_WAITING) {
        // Twice in a row: a look just after a pause that stopped every thread, the watchdog too, is not enough.
        return ++blockedLooks >= 2;
      }
      blockedLooks = 0;
      if (now - since >= RUNNABLE_STALL_FACTOR * stallNanos) {
        return true;
      }
      long cpu = ThreadCpu.nanos(thread);
      if (cpu < 0) {
        return false; // no per-thread CPU time in this JVM: the runnable bound alone
      }
      if (cpuAtFirstLook < 0) {
        cpuAtFirstLook = cpu;
        return false;
      }
      return cpu - cpuAtFirstLook >= stallNanos;
    }
  }

  /** Per-thread CPU time, loaded the first time the watchdog suspects a runnable reader thread. */
  private static final class ThreadCpu {
    private static final java.lang.management.ThreadMXBean BEAN = java.lang.management.ManagementFactory.getThreadMXBean();
    private static final boolean SUPPORTED = BEAN.isThreadCpuTimeSupported() && BEAN.isThreadCpuTimeEnabled();

    /** CPU time the thread has used, or -1 if the JVM does not tell. */
    static long nanos(Thread t) {
      return SUPPORTED ? BEAN.getThreadCpuTime(t.threadId()) : -1;
    }
  }

  private final ReentrantLock lock = new ReentrantLock();
  /** Deferred tasks and their fallback executors, alternating. Guarded by itself. */
  private final ArrayDeque<Object> deferred = new ArrayDeque<>();
  /**
   * Whether {@link #deferred} may hold tasks: written under its lock, read without it by {@link
   * #runDeferred}, which the reader thread calls after every pass of its loop (a busy-spinning
   * one, millions of times a second) and which so takes no monitor when there is nothing to run.
   */
  private volatile boolean anyDeferred;
  /** The current reader thread, once started through {@link #startReader}. */
  private volatile Reader reader;
  private String readerName;
  private Runnable readerBody;
  /** Nothing is deferred before this (System.nanoTime()), after a replacement. */
  private volatile long noDeferUntil;
  private volatile boolean coolingDown;
  /** The cool-down after the last replacement; written by the watchdog only. */
  private long coolDownNanos;
  /** Threads in receiveInline. */
  private final AtomicInteger wanted = new AtomicInteger();
  /** When the last inline receive ended; 0 after wake(). */
  private volatile long lastInlineNanos;
  /** The reader thread stands aside, parked. */
  private volatile boolean readerAside;

  /**
   * Starts the connection's reader thread, a platform daemon thread named {@code name} running
   * {@code body}. The body must be able to run again on a new thread: a replacement runs it when
   * the old thread is stuck in deferred work (see {@link #runDeferred}).
   */
  public void startReader(String name, Runnable body) {
    this.readerName = name;
    this.readerBody = body;
    newReader().start();
  }

  /** The current reader thread; null before {@link #startReader}. */
  public Thread currentReader() {
    Reader r = reader;
    return r == null ? null : r.thread;
  }

  private Thread newReader() {
    Reader[] self = new Reader[1];
    Thread t = Thread.ofPlatform().daemon().name(readerName).unstarted(() -> runReader(self[0]));
    self[0] = new Reader(this, t);
    reader = self[0];
    return t;
  }

  private void runReader(Reader r) {
    READING.set(r);
    ReaderWatchdog.register(r);
    try {
      readerBody.run();
    } finally {
      ReaderWatchdog.unregister(r);
      READING.remove();
      if (r.phase.get() != REPLACED) {
        endDeferral(r); // what onClosed deferred: nothing may be left behind
      }
    }
  }

  /**
   * Called by the reader thread when its read loop ends (the connection ends, or lingers in
   * close): nothing is deferred to it any more, and what is queued goes to its fallback
   * executors. Idempotent.
   *
   * @return false if the calling thread was replaced while running deferred work ({@link
   *     #runDeferred} returned false): it must return at once, without closing anything, and
   *     without unlocking ({@link #unlockIfHeld}); the new reader thread owns the connection
   */
  public boolean endDeferral() {
    Reader r = reader;
    // REPLACED: the watchdog may not have installed the new reader yet, but this one is done.
    if (r == null || r.thread != Thread.currentThread() || r.phase.get() == REPLACED) {
      return false;
    }
    endDeferral(r);
    return true;
  }

  private void endDeferral(Reader r) {
    r.phase.compareAndSet(READING_PHASE, ENDED);
    handToFallbacks();
  }

  private void handToFallbacks() {
    ArrayDeque<Object> stolen;
    synchronized (deferred) {
      if (deferred.isEmpty()) {
        return;
      }
      stolen = new ArrayDeque<>(deferred);
      deferred.clear();
      anyDeferred = false;
    }
    while (!stolen.isEmpty()) {
      Runnable task = (Runnable) stolen.poll();
      Executor fallback = (Executor) stolen.poll();
      try {
        fallback.execute(task);
      } catch (RejectedExecutionException e) {
        // A pool that is shutting down: run it anyway rather than lose it, but not on the watchdog.
        Thread.ofPlatform().daemon().name(readerName + " (deferred)").start(task);
      }
    }
  }

  /**
   * Queues {@code task} to run on the current thread once it has delivered what it read, if the
   * current thread is a connection's reader thread that runs deferred work ({@link #startReader}).
   *
   * @param fallback where the task goes if the reader thread is replaced before running it
   * @return false if nothing was queued: the caller must run the task elsewhere
   */
  public static boolean defer(Runnable task, Executor fallback) {
    Reader r = READING.get();
    return r != null && r.role.deferHere(r, task, fallback);
  }

  private boolean deferHere(Reader r, Runnable task, Executor fallback) {
    if (r != reader || r.phase.get() >= REPLACED) {
      return false; // a replaced thread finishing its work, or one done reading
    }
    if (coolingDown) {
      if (System.nanoTime() - noDeferUntil < 0) {
        return false;
      }
      coolingDown = false;
    }
    synchronized (deferred) {
      deferred.add(task);
      deferred.add(fallback);
      anyDeferred = true;
    }
    return true;
  }

  /**
   * Called by the reader thread, holding the role once, after delivering what a read returned:
   * runs the deferred tasks without the role (an inline receiver may read meanwhile), then takes
   * the role back.
   *
   * @return true if it holds the role again and should read on; false if it was replaced while
   *     running the tasks: it no longer holds the role and must end without touching the
   *     connection (the new reader thread owns it, and reports its end)
   */
  public boolean runDeferred() {
    // Tasks are queued by this very thread (deferHere), so none can be missed here; a task queued
    // by a thread just replaced is seen on the next pass.
    if (!anyDeferred) {
      return true;
    }
    Reader r = reader;
    lock.unlock();
    r.since = System.nanoTime();
    r.phase.set(RUNNING_DEFERRED);
    ReaderWatchdog.busy(); // after the phase is set: see ReaderWatchdog
    while (true) {
      Runnable task;
      synchronized (deferred) {
        task = (Runnable) deferred.poll();
        deferred.poll();
        if (task == null) {
          anyDeferred = false;
        }
      }
      if (task == null) {
        break;
      }
      try {
        task.run();
      } catch (Throwable t) {
        Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), t);
      }
    }
    if (r.phase.compareAndSet(RUNNING_DEFERRED, READING_PHASE)) {
      lock.lock();
      return true;
    }
    return false;
  }

  /** Unlocks if the current thread holds the role: a replaced reader thread does not. */
  public void unlockIfHeld() {
    if (lock.isHeldByCurrentThread()) {
      lock.unlock();
    }
  }

  /**
   * Called by the watchdog: replaces the reader thread if it has run deferred work since before
   * {@code now - STALL_NANOS} and is stuck in it (see the class comment).
   *
   * @return whether the reader thread is running deferred work (and was not replaced now)
   */
  static boolean replaceIfStalled(Reader r, long now) {
    return r.role.replaceIfStalled0(r, now);
  }

  private boolean replaceIfStalled0(Reader r, long now) {
    if (r != reader || r.phase.get() != RUNNING_DEFERRED) {
      return false;
    }
    long since = r.since;
    if (now - since < stallNanos || !r.stuck(since, now)) {
      return true;
    }
    if (!r.phase.compareAndSet(RUNNING_DEFERRED, REPLACED)) {
      return false;
    }
    // The stalled thread defers nothing more (its phase), and this one cools down before it does.
    if (coolDownNanos > 0 && now - noDeferUntil < coolDownNanos) {
      coolDownNanos = Math.min(coolDownNanos * 2, MAX_COOL_DOWN_NANOS);
    } else {
      coolDownNanos = coolDownStartNanos;
    }
    noDeferUntil = now + coolDownNanos;
    coolingDown = true;
    newReader().start();
    handToFallbacks();
    return false;
  }

  /** Takes the role, waiting for an inline receiver to finish. */
  public void lock() {
    lock.lock();
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
   * @return false if nothing was done: not {@code open}, or called by the holder of the role (the
   *     reader thread while it reads, or a handler within an inline receive)
   */
  public boolean receiveInline(
      BooleanSupplier done, long timeoutNanos, BooleanSupplier open, Runnable wakeHolder, Step step, Consumer<Throwable> fail) {
    // The reader thread itself may receive inline only from deferred work, which runs without the role.
    if (lock.isHeldByCurrentThread() || !open.getAsBoolean()) {
      return false;
    }
    long start = System.nanoTime();
    boolean met = false;
    // A reader thread's deferred work (a handler making a blocking call) now waits: tell the watchdog.
    Reader nested = READING.get();
    if (nested != null) {
      nested.waiting = true;
    }
    wanted.incrementAndGet();
    try {
      if (!lock.tryLock()) {
        wakeHolder.run(); // the reader thread holds the role, maybe asleep: make it let go
        lock.lock();
      }
      try {
        // Untimed (a blocking stub's wait), the clock is not read per step: with a busy-spinning
        // transport a step is a few loads, and in a VM reading the clock costs more than they do.
        boolean timed = timeoutNanos != Long.MAX_VALUE;
        while (!(met = done.getAsBoolean()) && open.getAsBoolean()) {
          long left = timed ? timeoutNanos - (System.nanoTime() - start) : Long.MAX_VALUE;
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
      if (nested != null) {
        nested.waiting = false;
      }
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
      LockSupport.unpark(currentReader());
    }
  }
}
