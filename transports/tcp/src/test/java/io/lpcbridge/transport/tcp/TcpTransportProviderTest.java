package io.lpcbridge.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.BindException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TcpTransportProviderTest {

  @Test
  void isFoundByServiceLoaderForTheTcpScheme() throws Exception {
    TransportProvider p = Transports.forTarget(Target.parse("tcp://localhost:1"));
    assertInstanceOf(TcpTransportProvider.class, p);
    assertEquals("tcp", p.name());
    assertEquals(Set.of("tcp"), p.schemes());
    assertEquals(Set.of(Capability.CROSS_HOST), p.capabilities());
    assertTrue(p.isAvailable());
    assertTrue(p.unavailabilityCause().isEmpty());
    assertTrue(p.description().contains(Epoll.isAvailable() ? "epoll" : "NIO"), p.description());
  }

  @Test
  void portZeroIsReportedAsTheBoundPort() throws Exception {
    try (Listener l = Transports.listen(Target.parse("tcp://localhost:0"), TransportOptions.defaults())) {
      Target.HostPort hp = l.localTarget().hostPort(-1);
      assertEquals("localhost", hp.host());
      assertNotEquals(0, hp.port());
      assertEquals("tcp", l.localTarget().scheme());
    }
  }

  @Test
  void bindingABusyPortNamesTheTarget() throws Exception {
    try (Listener l = Transports.listen(Target.parse("tcp://127.0.0.1:0"), TransportOptions.defaults())) {
      BindException e =
          assertThrows(BindException.class, () -> Transports.listen(l.localTarget(), TransportOptions.defaults()));
      assertTrue(e.getMessage().contains(l.localTarget().toString()), e.getMessage());
    }
  }

  @Test
  void misspeltOptionsAndBadTargetsAreRejected() {
    Target t = Target.parse("tcp://127.0.0.1:0");
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Transports.listen(t, TransportOptions.defaults().with("maxMesageSize", "1m")));
    assertTrue(e.getMessage().contains("maxMesageSize") && e.getMessage().contains("known options"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> Transports.listen(t, TransportOptions.defaults().with("io", "kqueue")));
    assertThrows(IllegalArgumentException.class, () -> Transports.connect(Target.parse("tcp://127.0.0.1"), TransportOptions.defaults()));
    assertThrows(IllegalArgumentException.class, () -> Transports.connect(t, TransportOptions.defaults()));
  }

  @Test
  void unknownHostFailsWithTheTarget() {
    Target t = Target.parse("tcp://no-such-host.invalid:7000");
    IOException e = assertThrows(IOException.class, () -> Transports.connect(t, TransportOptions.defaults()));
    assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
  }
}
