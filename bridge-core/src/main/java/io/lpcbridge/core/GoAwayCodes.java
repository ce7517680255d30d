package io.lpcbridge.core;

/** Error codes carried by GOAWAY frames. Part of the protocol: never renumber. */
public final class GoAwayCodes {
  /** Graceful: the sender is shutting down or rotating connections. */
  public static final int NO_ERROR = 0;
  /** The peer sent something malformed: bad length, unknown type, truncated frame, bad HELLO. */
  public static final int PROTOCOL_ERROR = 1;
  /** The sender failed in a way that is not the peer's fault. */
  public static final int INTERNAL_ERROR = 2;
  /** The peer sent more than its flow-control window allowed. */
  public static final int FLOW_CONTROL_ERROR = 3;
  /** The peer sent no HELLO within the handshake timeout. */
  public static final int HANDSHAKE_TIMEOUT = 4;

  private GoAwayCodes() {}

  public static String name(int code) {
    return switch (code) {
      case NO_ERROR -> "NO_ERROR";
      case PROTOCOL_ERROR -> "PROTOCOL_ERROR";
      case INTERNAL_ERROR -> "INTERNAL_ERROR";
      case FLOW_CONTROL_ERROR -> "FLOW_CONTROL_ERROR";
      case HANDSHAKE_TIMEOUT -> "HANDSHAKE_TIMEOUT";
      default -> "code " + code;
    };
  }
}
