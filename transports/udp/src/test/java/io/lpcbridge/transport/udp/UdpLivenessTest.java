package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Liveness over real sockets: a path that goes silent fails both ends within idleTimeout (and not
 * much earlier), keepalives hold an idle connection open through heavy loss, and a handler that
 * blocks its event loop is not mistaken for a dead peer. Killing the peer process with SIGKILL is
 * covered by the conformance suite ({@link UdpConformanceTest}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UdpLivenessTest {

  /** The options every socket here starts from: the default engine; a subclass picks another. */
  protected TransportOptions base() {
    return TransportOptions.defaults();
  }
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aPathThatGoesSilentFailsBothEndsWithinTheIdleTimeoutAndANewConnectionWorksWhenItIsBack() throws Exception {
    TransportOptions options = base().with(UdpSettings.IDLE_TIMEOUT, "1s"); // keepalive 200 ms
    try (TestServer server = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), options), RecordingHandler::echoing);
         LossyRelay relay = new LossyRelay(UdpBadInputTest.address(server.listener()), 1)) {
      Target viaRelay = Target.parse("udp://127.0.0.1:" + relay.address().getPort());
      RecordingHandler client = new RecordingHandler();
      Connection c = Transports.connect(viaRelay, options);
      c.start(client);
      TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
      c.send(ByteBuffer.wrap(bytes("before")));
      assertArrayEquals(bytes("before"), client.take(TIMEOUT));

      relay.silent = true;
      long start = System.nanoTime();
      Throwable clientCause = client.awaitClosed(Duration.ofSeconds(5));
      long clientMillis = (System.nanoTime() - start) / 1_000_000;
      Throwable serverCause = s.handler().awaitClosed(Duration.ofSeconds(5));
      long serverMillis = (System.nanoTime() - start) / 1_000_000;
      System.err.println("silent path: client failed after " + clientMillis + " ms (" + clientCause + "), server after "
          + serverMillis + " ms (" + serverCause + ")");
      for (Throwable cause : new Throwable[] {clientCause, serverCause}) {
        assertInstanceOf(IOException.class, cause);
        assertTrue(cause.getMessage().contains("idleTimeout"), cause.getMessage());
      }
      // The last datagram heard was at most one keepalive (200 ms) before the silence.
      assertTrue(clientMillis >= 750 && clientMillis < 2000, "client noticed after " + clientMillis + " ms, idleTimeout 1 s");
      assertTrue(serverMillis >= 750 && serverMillis < 2000, "server noticed after " + serverMillis + " ms, idleTimeout 1 s");
      assertFalse(c.isOpen());

      relay.silent = false;
      RecordingHandler again = new RecordingHandler();
      Connection c2 = Transports.connect(viaRelay, options);
      c2.start(again);
      c2.send(ByteBuffer.wrap(bytes("after")));
      assertArrayEquals(bytes("after"), again.take(TIMEOUT), "a new connection works once the path is back");
      c2.close();
    }
  }

  @Test
  void keepalivesHoldAnIdleConnectionOpenThroughThirtyPercentLoss() throws Exception {
    TransportOptions options = base()
        .with(UdpSettings.IDLE_TIMEOUT, "2s")
        .with(UdpSettings.KEEP_ALIVE, "200ms")
        .with(TransportOptions.CONNECT_TIMEOUT, "20s");
    try (TestServer server = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), options), RecordingHandler::echoing);
         LossyRelay relay = new LossyRelay(UdpBadInputTest.address(server.listener()), 2)) {
      relay.rates(0.30, 0, 0);
      RecordingHandler client = new RecordingHandler();
      Connection c = Transports.connect(Target.parse("udp://127.0.0.1:" + relay.address().getPort()), options);
      c.start(client);
      TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
      // Observing that nothing happens takes time: two idle timeouts with no traffic but keepalives.
      Thread.sleep(4000);
      assertFalse(client.isClosed(), "client closed: " + (client.isClosed() ? client.awaitClosed(TIMEOUT) : null));
      assertFalse(s.handler().isClosed(), "server end closed");
      c.send(ByteBuffer.wrap(bytes("still there")));
      assertArrayEquals(bytes("still there"), client.take(TIMEOUT));
      System.err.println("idle at 30% loss for 4 s: " + relay + "; client " + UdpTransportProvider.stats(c).orElseThrow());
      c.close();
    }
  }

  @Test
  void aHandlerThatBlocksItsEventLoopIsNotMistakenForADeadPeer() throws Exception {
    TransportOptions serverOptions = base().with(UdpSettings.IDLE_TIMEOUT, "1s");
    TransportOptions clientOptions = base().with(UdpSettings.IDLE_TIMEOUT, "10s");
    try (TestServer server = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), serverOptions),
        conn -> new RecordingHandler(m -> {
          if (m.remaining() == 5) {
            Thread.sleep(2000); // blocks the server's event loop for two of its idle timeouts
          }
          conn.send(m.duplicate());
        }))) {
      RecordingHandler client = new RecordingHandler();
      Connection c = Transports.connect(server.target(), clientOptions);
      c.start(client);
      TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
      c.send(ByteBuffer.wrap(bytes("block")));
      assertArrayEquals(bytes("block"), client.take(TIMEOUT));
      c.send(ByteBuffer.wrap(bytes("and after")));
      assertArrayEquals(bytes("and after"), client.take(TIMEOUT));
      assertFalse(s.handler().isClosed(), "the server end blamed the client for its own stall");
      c.close();
      client.awaitClosedInOrder(TIMEOUT);
    }
  }
}
