package io.lpcbridge.transport.shm;

import java.io.IOException;

/**
 * The peer broke the shared-memory protocol: an index, length or type read from the segment is out
 * of bounds or out of order, or the handshake was malformed. Only the connection it was read on is
 * failed.
 */
final class ShmProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  ShmProtocolException(String message) {
    super(message);
  }
}
