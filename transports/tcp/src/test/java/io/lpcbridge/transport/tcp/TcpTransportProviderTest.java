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
  void ioJdkAddsInlineReceiveAndTheChoicesAreListed() {
    TransportProvider p = new TcpTransportProvider();
    assertEquals(Set.of(Capability.CROSS_HOST), p.capabilities(TransportOptions.defaults()));
    assertEquals(Set.of(Capability.CROSS_HOST, Capability.INLINE_RECEIVE), p.capabilities(TransportOptions.defaults().with("io", "jdk")));
    assertEquals(java.util.List.of("auto", "epoll", "nio", "jdk"), p.optionChoices("io"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> p.capabilities(TransportOptions.defaults().with("io", "kqueue")));
    assertTrue(e.getMessage().contains("auto, epoll, nio, jdk"), e.getMessage());
  }

  /** The framing is the same on both engines: a jdk client talks to a Netty server, and back. */
  @Test
  void eitherEngineTalksToTheOther() throws Exception {
    for (String[] ends : new String[][] {{"jdk", "auto"}, {"auto", "jdk"}}) {
      TransportOptions serverOptions = TransportOptions.defaults().with("io", ends[0]);
      TransportOptions clientOptions = TransportOptions.defaults().with("io", ends[1]);
      try (Listener l = Transports.listen(Target.parse("tcp://127.0.0.1:0"), serverOptions)) {
        java.util.concurrent.BlockingQueue<byte[]> got = new java.util.concurrent.LinkedBlockingQueue<>();
        l.start(new Listener.Acceptor() {
          @Override
          public void onConnection(io.lpcbridge.transport.Connection c) {
            c.start(new io.lpcbridge.transport.MessageHandler() {
              @Override
              public void onMessage(java.nio.ByteBuffer m) {
                byte[] b = new byte[m.remaining()];
                m.get(b);
                c.send(java.nio.ByteBuffer.wrap(b));
              }

              @Override
              public void onClosed(Throwable cause) {}
            });
          }

          @Override
          public void onListenerFailed(Throwable cause) {}
        });
        io.lpcbridge.transport.Connection c = Transports.connect(l.localTarget(), clientOptions);
        try {
          c.start(new io.lpcbridge.transport.MessageHandler() {
            @Override
            public void onMessage(java.nio.ByteBuffer m) {
              byte[] b = new byte[m.remaining()];
              m.get(b);
              got.add(b);
            }

            @Override
            public void onClosed(Throwable cause) {}
          });
          byte[] big = new byte[300_000];
          new java.util.Random(7).nextBytes(big);
          c.send(java.nio.ByteBuffer.wrap("hello".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
          c.send(java.nio.ByteBuffer.wrap(big));
          assertEquals("hello", new String(got.poll(10, java.util.concurrent.TimeUnit.SECONDS), java.nio.charset.StandardCharsets.UTF_8),
              "server " + ends[0] + ", client " + ends[1]);
          org.junit.jupiter.api.Assertions.assertArrayEquals(big, got.poll(10, java.util.concurrent.TimeUnit.SECONDS));
        } finally {
          c.close();
        }
      }
    }
  }

  @Test
  void ioJdkRefusedConnectionNamesTheTarget() throws Exception {
    Target t;
    try (Listener l = Transports.listen(Target.parse("tcp://127.0.0.1:0"), TransportOptions.defaults())) {
      t = l.localTarget();
    }
    IOException e = assertThrows(IOException.class, () -> Transports.connect(t, TransportOptions.defaults().with("io", "jdk")));
    assertTrue(e.getMessage().contains(t.toString()) && e instanceof java.net.ConnectException, e.toString());
  }

  @Test
  void unknownHostFailsWithTheTarget() {
    Target t = Target.parse("tcp://no-such-host.invalid:7000");
    IOException e = assertThrows(IOException.class, () -> Transports.connect(t, TransportOptions.defaults()));
    assertTrue(e.getMessage().contains(t.toString()), e.getMessage());
  }
}
