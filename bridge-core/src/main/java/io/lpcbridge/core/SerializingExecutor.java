package io.lpcbridge.core;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs tasks on a delegate executor one at a time, in submission order: the guarantee gRPC gives
 * a call's listener, whatever executor the application chose. A task that throws is reported to the
 * thread's uncaught-exception handler and does not stop the ones after it.
 */
public final class SerializingExecutor implements Executor, Runnable {
  private final Executor delegate;
  private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean running = new AtomicBoolean();

  public SerializingExecutor(Executor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void execute(Runnable task) {
    queue.add(task);
    schedule();
  }

  private void schedule() {
    if (running.compareAndSet(false, true)) {
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
