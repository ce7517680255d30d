package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;

/** The conformance suite over udp with the NIO event loops forced, the fallback where epoll is missing. */
class UdpNioConformanceTest extends UdpConformanceTest {
  @Override
  protected TransportOptions options() {
    return super.options().with(UdpEventLoops.IO_OPTION, "nio");
  }
}
