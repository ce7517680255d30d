package io.lpcbridge.core;

import java.time.Duration;

/**
 * Settings of one {@link WireSession}.
 *
 * @param initialWindow bytes of message payload this side buffers per call before the peer must
 *     wait for a WINDOW_UPDATE; announced in HELLO; at least {@link WireSession#MIN_WINDOW}
 * @param maxInboundMessageSize largest message payload accepted from the peer; a larger one ends
 *     the call with RESOURCE_EXHAUSTED, as gRPC's {@code maxInboundMessageSize}
 * @param handshakeTimeout how long a server waits for the client's HELLO before closing
 * @param keepAliveTime idle time after which a PING is sent to check the peer; zero disables
 * @param keepAliveTimeout how long to wait for the PING's answer before closing the connection
 */
public record SessionOptions(
    int initialWindow,
    int maxInboundMessageSize,
    Duration handshakeTimeout,
    Duration keepAliveTime,
    Duration keepAliveTimeout) {

  public static final int DEFAULT_WINDOW = 1024 * 1024;
  public static final int DEFAULT_MAX_INBOUND_MESSAGE_SIZE = 4 * 1024 * 1024;

  public SessionOptions {
    if (initialWindow < WireSession.MIN_WINDOW) {
      throw new IllegalArgumentException(
          "initialWindow " + initialWindow + " is below the protocol minimum " + WireSession.MIN_WINDOW);
    }
    if (maxInboundMessageSize < 0) {
      throw new IllegalArgumentException("maxInboundMessageSize " + maxInboundMessageSize + " is negative");
    }
  }

  public static SessionOptions defaults() {
    return new SessionOptions(
        DEFAULT_WINDOW, DEFAULT_MAX_INBOUND_MESSAGE_SIZE, Duration.ofSeconds(10), Duration.ZERO, Duration.ofSeconds(20));
  }

  public SessionOptions withInitialWindow(int window) {
    return new SessionOptions(window, maxInboundMessageSize, handshakeTimeout, keepAliveTime, keepAliveTimeout);
  }

  public SessionOptions withMaxInboundMessageSize(int size) {
    return new SessionOptions(initialWindow, size, handshakeTimeout, keepAliveTime, keepAliveTimeout);
  }

  public SessionOptions withHandshakeTimeout(Duration timeout) {
    return new SessionOptions(initialWindow, maxInboundMessageSize, timeout, keepAliveTime, keepAliveTimeout);
  }

  public SessionOptions withKeepAlive(Duration time, Duration timeout) {
    return new SessionOptions(initialWindow, maxInboundMessageSize, handshakeTimeout, time, timeout);
  }
}
