package io.lpcbridge.core;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Process-wide threads shared by every channel and server, as gRPC shares its timer and default
 * executor: daemon threads, created on first use, never shut down.
 */
public final class SharedResources {
  private SharedResources() {}

  private static final class Timer {
    static final ScheduledExecutorService INSTANCE = create();

    private static ScheduledExecutorService create() {
      ScheduledThreadPoolExecutor e = new ScheduledThreadPoolExecutor(1, daemonThreads("bridge-timer"));
      e.setRemoveOnCancelPolicy(true);
      return e;
    }
  }

  private static final class CallExecutor {
    static final ExecutorService INSTANCE = Executors.newCachedThreadPool(daemonThreads("bridge-default-executor"));
  }

  private static final class Callbacks {
    static final ReaderExecutor INSTANCE = new ReaderExecutor(CallExecutor.INSTANCE);
  }

  private static final class Blocking {
    static final ExecutorService INSTANCE = Executors.newCachedThreadPool(daemonThreads("bridge-connector"));
  }

  /** Deadlines, handshake and keepalive timers, reconnect backoff. Tasks must be short. */
  public static ScheduledExecutorService timer() {
    return Timer.INSTANCE;
  }

  /** The executor for call callbacks when the application names none, as gRPC's default. */
  public static ExecutorService defaultExecutor() {
    return CallExecutor.INSTANCE;
  }

  /**
   * Where call callbacks run when the application names no executor: on the transport's reader
   * thread that delivered what they answer, once it has delivered it ({@link ReaderExecutor}), and
   * otherwise on {@link #defaultExecutor()}.
   */
  public static ReaderExecutor callbackExecutor() {
    return Callbacks.INSTANCE;
  }

  /** For blocking work of the bridge's own (connecting, accepting). */
  public static ExecutorService blockingExecutor() {
    return Blocking.INSTANCE;
  }

  public static ThreadFactory daemonThreads(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
