package io.lpcbridge.bench;

import java.util.Locale;

/** What carries a benchmark row: the bridge's RPC layer or one of the references it is compared with. */
enum Stack {
  /** Stock stubs over a {@code BridgeChannel}, served by a {@code BridgeServer}, on an SPI transport. */
  BRIDGE,
  /** Stock grpc-java over HTTP/2 (grpc-netty-shaded), on TCP loopback or a Unix socket. */
  GRPC,
  /** The raw transport floor: the same SPI {@code Connection}, a plain echo, no RPC layer. */
  RAW,
  /** The plain-socket floor: JDK blocking {@code SocketChannel}s (TCP or Unix), a plain echo. */
  SOCKET;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Stack parse(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT));
  }

  /** Whether rows of this stack are references (floors) rather than RPC stacks. */
  boolean isFloor() {
    return this == RAW || this == SOCKET;
  }
}
