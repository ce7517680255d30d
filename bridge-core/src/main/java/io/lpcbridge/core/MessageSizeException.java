package io.lpcbridge.core;

/** A message is too large to send: the call layer ends the call with RESOURCE_EXHAUSTED. */
public final class MessageSizeException extends Exception {
  private static final long serialVersionUID = 1L;

  public MessageSizeException(String message) {
    super(message);
  }
}
