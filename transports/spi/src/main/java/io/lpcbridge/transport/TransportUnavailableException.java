package io.lpcbridge.transport;

import java.io.IOException;

/** The target's transport is unknown, or known but not available on this machine. */
public final class TransportUnavailableException extends IOException {
  private static final long serialVersionUID = 1L;

  public TransportUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
