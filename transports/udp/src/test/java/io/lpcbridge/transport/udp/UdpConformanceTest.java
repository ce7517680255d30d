package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.time.Duration;

/**
 * The conformance suite over udp on loopback, with the preferred I/O (epoll on Linux). The idle
 * timeout is shortened so that the peer-death tests, which wait for it, stay quick.
 */
class UdpConformanceTest extends TransportConformanceSuite {
  @Override
  protected Target listenTarget() {
    return Target.parse("udp://127.0.0.1:0");
  }

  @Override
  protected TransportOptions options() {
    return super.options().with(UdpSettings.IDLE_TIMEOUT, "3s");
  }

  @Override
  protected Duration livenessBound() {
    return Duration.ofSeconds(8);
  }
}
