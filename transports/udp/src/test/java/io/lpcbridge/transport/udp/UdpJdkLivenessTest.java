package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;

/** {@link UdpLivenessTest} with {@code io=jdk}: JDK datagram channels, no event loop. */
class UdpJdkLivenessTest extends UdpLivenessTest {
  @Override
  protected TransportOptions base() {
    return super.base().with(UdpEventLoops.IO_OPTION, UdpEventLoops.JDK);
  }
}
