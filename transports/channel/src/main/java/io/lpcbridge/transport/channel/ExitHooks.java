package io.lpcbridge.transport.channel;

/**
 * Removing a listener's name (a socket file, a FIFO, a message queue) when the JVM exits without
 * closing the listener: {@code System.exit}, SIGTERM, SIGINT. A SIGKILL runs nothing; what it
 * leaves, the transports remove when they find it unused (see docs/local-ipc.md).
 */
public final class ExitHooks {
  private ExitHooks() {}

  /**
   * Runs {@code cleanup} at JVM exit unless the returned action is run first (by the listener's
   * {@code close()}, which cleans up itself).
   */
  public static Runnable register(String name, Runnable cleanup) {
    Thread hook = new Thread(cleanup, "cleanup " + name);
    Runtime.getRuntime().addShutdownHook(hook);
    return () -> {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException exiting) {
        // The JVM is exiting: the hook runs or has run; cleanup is idempotent.
      }
    };
  }
}
