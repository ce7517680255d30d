package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Connection;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Small decorations of a connection that several transports need. */
public final class ConnectionHooks {
  /** How often, and how long, {@link #cleanUpAfterPeer} looks for what a dead server left. */
  private static final Duration CLEANUP_STEP = Duration.ofMillis(50);
  private static final int CLEANUP_STEPS = 20;

  private ConnectionHooks() {}

  /**
   * {@code connection}, which when it closes for any reason but this side's {@code close()}
   * checks on a daemon thread whether its server is gone and, if so, removes what the server left
   * (a request FIFO, a socket file, a message queue). {@code removeIfStale} must remove only what
   * provably has no live owner, and return whether it did. A dying process closes its descriptors
   * one by one, so the check is repeated for a second before concluding that the server lives.
   */
  public static Connection cleanUpAfterPeer(Connection connection, String what, BooleanSupplier removeIfStale) {
    return new ForwardingConnection(connection) {
      @Override
      void afterClosed(Throwable cause) {
        if (closeCalled) {
          return;
        }
        Thread t = new Thread(() -> {
          for (int i = 0; i < CLEANUP_STEPS && !removeIfStale.getAsBoolean(); i++) {
            try {
              Thread.sleep(CLEANUP_STEP);
            } catch (InterruptedException e) {
              return;
            }
          }
        }, "clean up after " + what);
        t.setDaemon(true);
        t.start();
      }
    };
  }
}
