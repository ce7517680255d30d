package io.lpcbridge.transport;

/**
 * Delivers a connection's {@link MessageHandler#onWritable} and {@link MessageHandler#onClosed} as
 * the {@link Connection} contract wants: never both at once, no {@code onWritable} after {@code
 * onClosed}, and a handler that throws is logged, not let loose on a transport thread. For
 * transport implementations; one per connection.
 */
public final class HandlerCallbacks {
  private static final System.Logger LOG = System.getLogger(HandlerCallbacks.class.getName());

  private final Object connection;
  private final Object lock = new Object();
  /** Guarded by lock: onWritable is not called once it is set. */
  private boolean closedDelivered;

  /** @param connection named in the log when a handler throws */
  public HandlerCallbacks(Object connection) {
    this.connection = connection;
  }

  /** Calls {@code handler.onWritable()} unless the handler is not set yet or was told of the close. */
  public void writable(MessageHandler handler) {
    if (handler == null) {
      return;
    }
    synchronized (lock) {
      if (closedDelivered) {
        return;
      }
      try {
        handler.onWritable();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "onWritable threw on " + connection, e);
      }
    }
  }

  /** Calls {@code handler.onClosed(cause)}; nothing reaches the handler after it. */
  public void closed(MessageHandler handler, Throwable cause) {
    synchronized (lock) {
      closedDelivered = true;
      try {
        handler.onClosed(cause);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, () -> "onClosed threw on " + connection, e);
      }
    }
  }
}
