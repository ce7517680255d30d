package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;

/** {@link UdpLossyPathTest} with {@code io=jdk}: JDK datagram channels, no event loop. */
class UdpJdkLossyPathTest extends UdpLossyPathTest {
  @Override
  protected TransportOptions base() {
    return super.base().with(UdpEventLoops.IO_OPTION, UdpEventLoops.JDK);
  }
}
