package io.lpcbridge.transport;

/**
 * Thrown by {@link Connection#send} when a message is larger than the connection's {@link
 * Connection#maxMessageSize()}. Nothing is sent and the connection stays usable.
 */
public final class MessageTooLargeException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final int size;
  private final int limit;

  public MessageTooLargeException(int size, int limit) {
    super(
        "message of "
            + size
            + " bytes exceeds maxMessageSize "
            + limit
            + " (set the transport option maxMessageSize to raise it)");
    this.size = size;
    this.limit = limit;
  }

  public int size() {
    return size;
  }

  public int limit() {
    return limit;
  }
}
