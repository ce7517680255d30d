package io.lpcbridge.transport;

/**
 * A server endpoint that accepts {@link Connection}s on one target.
 *
 * <h2>Lifecycle</h2>
 *
 * A listener returned by {@link TransportProvider#listen} is already bound (its address is taken,
 * so {@link #localTarget()} is final) but accepts nothing until {@link #start}, which is called
 * exactly once. {@link #close()} stops accepting, releases the address (a Unix socket file is
 * removed) and is idempotent; connections already accepted are not affected by it.
 */
public interface Listener extends AutoCloseable {

  /** Receives accepted connections. */
  interface Acceptor {
    /**
     * A new connection, not yet started. Called on a transport thread, one connection at a time.
     * The acceptor must {@link Connection#start start} it or {@link Connection#close close} it.
     */
    void onConnection(Connection connection);

    /**
     * The listener stopped accepting because of an error it cannot recover from. Not called after
     * {@link Listener#close()}.
     */
    default void onListenerFailed(Throwable cause) {}
  }

  /**
   * The target this listener is bound to, with anything left open in the requested target filled
   * in (a tcp port 0 becomes the port the kernel chose).
   */
  Target localTarget();

  /**
   * Starts accepting connections and handing them to {@code acceptor}. Called exactly once.
   *
   * @throws IllegalStateException when called a second time or after {@link #close()}
   */
  void start(Acceptor acceptor);

  /** Stops accepting and releases the address. Idempotent; safe from any thread. */
  @Override
  void close();
}
