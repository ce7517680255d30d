package io.lpcbridge.core;

import io.lpcbridge.transport.ReadRole;
import java.util.concurrent.Executor;

/**
 * Runs a task submitted on a transport's reader thread on that same thread, once it has delivered
 * what it read and before it reads again ({@link ReadRole#defer}); any other task goes to the pool.
 *
 * <p>A unary call over a local transport is then read, handled and answered by one thread, with no
 * wake-up of a pool thread in between. Handlers may still block: a reader thread stuck in deferred
 * work (waiting, or computing, for over {@link ReadRole#STALL_NANOS}; see {@link ReadRole}) is
 * replaced by a new one, and the work still queued goes to the pool. Transports whose reading belongs to Netty's event loops (tcp, udp, grpc) have
 * no such reader thread, so their callbacks always go to the pool.
 */
public final class ReaderExecutor implements Executor {
  private final Executor pool;

  public ReaderExecutor(Executor pool) {
    this.pool = pool;
  }

  @Override
  public void execute(Runnable task) {
    if (!ReadRole.defer(task, pool)) {
      pool.execute(task);
    }
  }

  @Override
  public String toString() {
    return "ReaderExecutor(" + pool + ")";
  }
}
