package io.lpcbridge.core;

import io.grpc.Status;

/** Connection-level events of a {@link WireSession}. Called on transport threads; must not block. */
public interface SessionListener {

  /**
   * A new call arrived. Server sessions only. The returned listener receives the stream's events;
   * calls on {@code stream} may be made before returning (e.g. to reject it with trailers).
   */
  default StreamListener onCallStart(WireStream stream, CallStart start) {
    throw new UnsupportedOperationException("this session does not accept calls");
  }

  /** The peer's HELLO arrived: the session is fully established. */
  default void onEstablished(WireSession session) {}

  /**
   * The peer will take no new calls; calls above {@code lastStreamId} were not processed and have
   * been reset with UNAVAILABLE.
   */
  default void onGoAway(WireSession session, int code, String reason) {}

  /** The session is closed; every stream has ended. Called exactly once. */
  void onClosed(WireSession session, Status status);
}
