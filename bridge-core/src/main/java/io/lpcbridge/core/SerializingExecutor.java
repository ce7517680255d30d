package io.lpcbridge.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Runs tasks on a delegate executor one at a time, in submission order: the guarantee gRPC gives
 * a call's listener, whatever executor the application chose. A task that throws is reported to the
 * thread's uncaught-exception handler and does not stop the ones after it.
 *
 * <h2>Dispatch batches</h2>
 *
 * Handing tasks to the delegate wakes a thread, and on these machines a wake-up costs tens of
 * microseconds. A transport message often carries several events of one call (a unary request's
 * start, message and half-close; a unary response's headers, message and trailers). So while the
 * transport's reader thread is inside {@link #batch}, tasks are held per executor and handed over
 * together when the batch ends: one wake-up per call per transport message, not one per event.
 * Tasks that other threads submit while some are held are held behind them, so order is kept.
 */
public final class SerializingExecutor implements Executor, Runnable {
  private static final ThreadLocal<Batch> BATCH = new ThreadLocal<>();

  private final Executor delegate;
  private final TaskQueue queue = new TaskQueue();
  private final AtomicBoolean running = new AtomicBoolean();
  /**
   * Tasks held until the batch that first held one ends. Written under this; volatile so that
   * {@link #execute} outside a batch can see there is nothing held without taking the lock.
   */
  private volatile List<Runnable> held;

  public SerializingExecutor(Executor delegate) {
    this.delegate = delegate;
  }

  /** The executors holding tasks in the current thread's batch. */
  private static final class Batch {
    final List<SerializingExecutor> holding = new ArrayList<>(4);
    int depth;
  }

  /**
   * Runs {@code body}; tasks submitted during it to any SerializingExecutor are handed to their
   * delegates when it returns (or throws). Nested batches join the outermost one.
   */
  public static void batch(Runnable body) {
    batch(Runnable::run, body);
  }

  /**
   * {@link #batch(Runnable)} of {@code body.accept(arg)}: with a body kept in a field, the reader
   * thread allocates nothing per transport message.
   */
  public static <T> void batch(Consumer<T> body, T arg) {
    Batch b = BATCH.get();
    if (b == null) {
      b = new Batch();
      BATCH.set(b);
    }
    b.depth++;
    try {
      body.accept(arg);
    } finally {
      if (--b.depth == 0 && !b.holding.isEmpty()) {
        // Release may run tasks inline (direct executors) that start batches of their own.
        List<SerializingExecutor> holding = new ArrayList<>(b.holding);
        b.holding.clear();
        // Every executor gets its tasks even if one delegate refuses: held tasks are never lost.
        RuntimeException refused = null;
        for (SerializingExecutor e : holding) {
          try {
            e.release();
          } catch (RuntimeException ex) {
            if (refused == null) {
              refused = ex;
            } else {
              refused.addSuppressed(ex);
            }
          }
        }
        if (refused != null) {
          throw refused;
        }
      }
    }
  }

  @Override
  public void execute(Runnable task) {
    Batch b = BATCH.get();
    if ((b == null || b.depth == 0) && held == null) {
      // Nothing is held, and this thread holds nothing: straight to the queue, no lock. A batch
      // that starts holding after this read queues its tasks after this one, as if it had come
      // later, which it did; one that released before it has queued its tasks already.
      queue.add(task);
      schedule();
      return;
    }
    synchronized (this) {
      if (held != null) {
        held.add(task);
        return;
      }
      if (b != null && b.depth > 0) {
        held = new ArrayList<>(4);
        held.add(task);
        b.holding.add(this);
        return;
      }
    }
    queue.add(task);
    schedule();
  }

  private void release() {
    synchronized (this) {
      List<Runnable> tasks = held;
      if (tasks == null) {
        return;
      }
      // Queued before held is cleared, under the lock execute() checks it with (or after which it
      // reads it): a task submitted once held is null lands behind these, so order is kept.
      for (int i = 0; i < tasks.size(); i++) {
        queue.add(tasks.get(i));
      }
      held = null;
    }
    schedule();
  }

  private void schedule() {
    // Read first: a task submitted while the executor runs (a callback's own request(), every
    // message of a stream) costs no failed compare-and-set. The runner clears the flag before it
    // looks at the queue again, so either it sees the task or this sees the flag cleared.
    if (!running.get() && running.compareAndSet(false, true)) {
      try {
        delegate.execute(this);
      } catch (RuntimeException e) {
        // The delegate refused (e.g. shut down): run nothing, but let later submissions retry.
        running.set(false);
        throw e;
      }
    }
  }

  @Override
  public void run() {
    try {
      Runnable task;
      while ((task = queue.poll()) != null) {
        try {
          task.run();
        } catch (RuntimeException | Error e) {
          Thread t = Thread.currentThread();
          t.getUncaughtExceptionHandler().uncaughtException(t, e);
        }
      }
    } finally {
      running.set(false);
    }
    if (!queue.isEmpty()) {
      schedule();
    }
  }
}
