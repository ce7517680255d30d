package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;

/**
 * The conformance suite over udp on loopback with the cross-host datagram size, 1200 bytes: every
 * message over about 1 KiB is fragmented, as it is between hosts.
 */
class UdpCrossHostSizeConformanceTest extends UdpConformanceTest {
  @Override
  protected TransportOptions options() {
    return super.options().with(UdpSettings.DATAGRAM_SIZE, UdpSettings.CROSS_HOST_DATAGRAM);
  }
}
