package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The provider's face: registration, capabilities, options and their errors, datagram sizes, counters. */
class UdpTransportProviderTest {
  private final UdpTransportProvider provider = new UdpTransportProvider();

  @Test
  void isFoundByItsSchemeAndDescribesItself() {
    assertInstanceOf(UdpTransportProvider.class, Transports.find("udp").orElseThrow());
    assertEquals("udp", provider.name());
    assertEquals(Set.of("udp"), provider.schemes());
    assertEquals(Set.of(Capability.CROSS_HOST), provider.capabilities());
    assertTrue(provider.isAvailable());
    assertTrue(provider.description().contains("UDP"), provider.description());
    assertEquals(List.of(Target.parse("udp://127.0.0.1:0")), provider.loopbackTargets(Path.of("/tmp")));
    assertTrue(provider.supportedOptions().containsAll(Set.of("io", "datagramSize", "receiveWindow", "idleTimeout",
        "keepAliveInterval", "minRto", "maxConnections", "maxConnectionsPerHost")));
  }

  @Test
  void badOptionsAreRefusedWithWhatToDo() {
    Target t = Target.parse("udp://127.0.0.1:0");
    String unknown = assertThrows(IllegalArgumentException.class,
        () -> provider.listen(t, TransportOptions.defaults().with("datagramsize", "1200"))).getMessage();
    assertTrue(unknown.contains("unknown option 'datagramsize'") && unknown.contains("datagramSize"), unknown);
    String size = assertThrows(IllegalArgumentException.class,
        () -> provider.listen(t, TransportOptions.defaults().with("datagramSize", "100"))).getMessage();
    assertTrue(size.contains("datagramSize=100") && size.contains("512..65507"), size);
    String keepAlive = assertThrows(IllegalArgumentException.class,
        () -> provider.listen(t, TransportOptions.defaults().with("idleTimeout", "1s").with("keepAliveInterval", "800ms")))
        .getMessage();
    assertTrue(keepAlive.contains("at most half of idleTimeout"), keepAlive);
    String io = assertThrows(IllegalArgumentException.class,
        () -> provider.listen(t, TransportOptions.defaults().with("io", "kqueue"))).getMessage();
    assertTrue(io.contains("auto, epoll, nio"), io);
    assertThrows(IllegalArgumentException.class, () -> provider.connect(t, TransportOptions.defaults()), "port 0");
  }

  @Test
  void addressErrorsNameTheTarget() throws Exception {
    Target nowhere = Target.parse("udp://no-such-host.invalid:7000");
    UnknownHostException e = assertThrows(UnknownHostException.class, () -> provider.connect(nowhere, TransportOptions.defaults()));
    assertTrue(e.getMessage().contains(nowhere.toString()), e.getMessage());
    try (Listener l = provider.listen(Target.parse("udp://127.0.0.1:0"), TransportOptions.defaults())) {
      BindException b = assertThrows(BindException.class, () -> provider.listen(l.localTarget(), TransportOptions.defaults()));
      assertTrue(b.getMessage().contains(l.localTarget().toString()), b.getMessage());
    }
  }

  @Test
  void datagramSizeIs1200AcrossHostsLargerOnLoopbackAndTheSmallerSideWins() throws Exception {
    UdpSettings defaults = UdpSettings.of(TransportOptions.defaults());
    assertEquals(1200, defaults.datagramSizeFor(InetAddress.getByName("10.1.2.3")));
    assertEquals(UdpSettings.LOOPBACK_DATAGRAM, defaults.datagramSizeFor(InetAddress.getLoopbackAddress()));
    UdpSettings explicit = UdpSettings.of(TransportOptions.defaults().with("datagramSize", "9000"));
    assertEquals(9000, explicit.datagramSizeFor(InetAddress.getLoopbackAddress()));

    try (TestServer server = new TestServer(provider.listen(Target.parse("udp://127.0.0.1:0"), TransportOptions.defaults()),
        RecordingHandler::echoing)) {
      Connection c = provider.connect(server.target(), TransportOptions.defaults().with("datagramSize", "1200"));
      c.start(new RecordingHandler());
      TestServer.Accepted s = server.awaitAccepted(Duration.ofSeconds(10));
      assertEquals(1200, ((UdpConnection) c).session().config().datagramSize(), "client");
      assertEquals(1200, ((UdpConnection) s.connection()).session().config().datagramSize(), "server");
      assertTrue(c.remoteAddress().startsWith("udp://127.0.0.1:"), c.remoteAddress());
      c.close();
    }
  }

  @Test
  void worksOverIpv6Loopback() throws Exception {
    boolean ipv6 = true;
    try (java.nio.channels.DatagramChannel probe = java.nio.channels.DatagramChannel.open()) {
      probe.bind(new java.net.InetSocketAddress(InetAddress.getByName("::1"), 0));
    } catch (IOException | UnsupportedOperationException e) {
      ipv6 = false;
    }
    org.junit.jupiter.api.Assumptions.assumeTrue(ipv6, "no IPv6 loopback on this machine");
    try (TestServer server = new TestServer(provider.listen(Target.parse("udp://[::1]:0"), TransportOptions.defaults()),
        RecordingHandler::echoing)) {
      assertTrue(server.target().toString().startsWith("udp://[::1]:"), server.target().toString());
      RecordingHandler h = new RecordingHandler();
      Connection c = provider.connect(server.target(), TransportOptions.defaults());
      c.start(h);
      c.send(java.nio.ByteBuffer.wrap(new byte[70_000]));
      assertEquals(70_000, h.take(Duration.ofSeconds(10)).length);
      assertTrue(c.remoteAddress().startsWith("udp://[0:0:0:0:0:0:0:1]:") || c.remoteAddress().startsWith("udp://[::1]:"),
          c.remoteAddress());
      c.close();
      h.awaitClosedInOrder(Duration.ofSeconds(10));
    }
  }

  @Test
  void countersAreReadablePerConnectionPerListenerAndForTheProcess() throws IOException, InterruptedException {
    UdpStats before = UdpTransportProvider.totals();
    try (TestServer server = new TestServer(provider.listen(Target.parse("udp://127.0.0.1:0"), TransportOptions.defaults()),
        RecordingHandler::echoing)) {
      RecordingHandler h = new RecordingHandler();
      Connection c = provider.connect(server.target(), TransportOptions.defaults());
      c.start(h);
      c.send(java.nio.ByteBuffer.wrap(new byte[100]));
      h.take(Duration.ofSeconds(10));
      UdpStats cs = UdpTransportProvider.stats(c).orElseThrow();
      assertEquals(1, cs.count(UdpStats.Counter.MESSAGES_SENT));
      assertEquals(1, cs.count(UdpStats.Counter.MESSAGES_DELIVERED));
      assertTrue(cs.smoothedRtt().compareTo(Duration.ZERO) > 0, "an RTT sample: " + cs);
      UdpStats ls = UdpTransportProvider.stats(server.listener()).orElseThrow();
      assertEquals(1, ls.count(UdpStats.Counter.CONNECTIONS_ACCEPTED));
      assertEquals(1, ls.count(UdpStats.Counter.COOKIES_SENT));
      assertTrue(UdpTransportProvider.totals().count(UdpStats.Counter.MESSAGES_SENT)
          >= before.count(UdpStats.Counter.MESSAGES_SENT) + 2, "client and server sends are in the totals");
      c.close();
      h.awaitClosedInOrder(Duration.ofSeconds(10));
    }
  }
}
