package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;

/** The conformance suite over tcp on loopback, with the preferred I/O (epoll on Linux). */
class TcpConformanceTest extends TransportConformanceSuite {
  @Override
  protected Target listenTarget() {
    return Target.parse("tcp://127.0.0.1:0");
  }
}
