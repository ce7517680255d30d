package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;

/** {@link UdpBadInputTest} with {@code io=jdk}: JDK datagram channels, no event loop. */
class UdpJdkBadInputTest extends UdpBadInputTest {
  @Override
  protected TransportOptions base() {
    return super.base().with(UdpEventLoops.IO_OPTION, UdpEventLoops.JDK);
  }
}
