package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;

/**
 * The conformance suite over udp on JDK datagram channels ({@code io=jdk}): the same protocol with
 * no event loop, inline receives and handlers deferred to the thread that read their message.
 */
class UdpJdkConformanceTest extends UdpConformanceTest {
  @Override
  protected TransportOptions options() {
    return super.options().with(UdpEventLoops.IO_OPTION, UdpEventLoops.JDK);
  }
}
