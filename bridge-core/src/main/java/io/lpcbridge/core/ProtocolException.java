package io.lpcbridge.core;

/**
 * The peer broke the wire protocol. Ends the connection: the reader answers with a GOAWAY carrying
 * {@link #code()} and the message, then closes.
 */
public final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;

  private final int code;

  public ProtocolException(int code, String message) {
    super(message);
    this.code = code;
  }

  /** One of the {@link GoAwayCodes}. */
  public int code() {
    return code;
  }
}
