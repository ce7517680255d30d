package io.lpcbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The udp transport under real random packet loss (nftables on host b's veth, each way): every
 * call of the unchanged client program completes with the right answer, and the server's
 * execution count shows that none ran twice (the count equals the calls made, and every call
 * needed at least one execution to answer).
 */
class UdpLossTest {
  private static final int ROUNDS = 5;
  private static final int CALLS = ROUNDS * 4;
  // Two datagrams per message at the default 1200-byte datagram size: loss hits fragments too.
  private static final String PAYLOAD_BYTES = "2000";
  // Per call: generous, as retransmission timeouts add up under 30% loss each way.
  private static final String CALL_DEADLINE_SECONDS = "60";
  private static final Duration CLIENT_RUN = Duration.ofSeconds(150);

  static TestNetwork net;
  static ServerProcess server;
  /** The same server on the other engine ({@code io=jdk}), called by a client on it too. */
  static ServerProcess jdkServer;

  @BeforeAll
  static void start() {
    Requirements.assumeNamespaces();
    Requirements.requireUdp();
    Requirements.requireNft();
    net = TestNetwork.create();
    server = ServerProcess.echoServer(net.b(), "loss-server", List.of("udp"));
    jdkServer = ServerProcess.echoServer(net.b(), "loss-server-jdk", List.of("udp"), "?io=jdk");
  }

  @AfterAll
  static void stop() {
    try {
      if (server != null) {
        server.close();
      }
      if (jdkServer != null) {
        jdkServer.close();
      }
    } finally {
      if (net != null) {
        net.close();
      }
    }
  }

  @ParameterizedTest(name = "{0}% loss, io={1}")
  @CsvSource({"10, default", "30, default", "10, jdk", "30, jdk"})
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void everyCallCompletesExactlyOnce(int percent, String io) {
    boolean jdk = io.equals("jdk");
    ServerProcess server = jdk ? jdkServer : UdpLossTest.server;
    // The handshake crosses the lossy link too: give it time for several retransmissions.
    Path config = Clients.configFile("loss-" + percent + "-" + io, server.target("udp"), "30s", jdk ? Map.of("io", "jdk") : Map.of());
    try (PacketLoss loss = net.dropUdp(net.b(), percent)) {
      EchoServerProgram.Stats before = server.stats();
      long t0 = System.nanoTime();
      try (ChildProcess client =
          Clients.start(net.a(), "loss-client-" + percent + "-" + io, config, "run", String.valueOf(ROUNDS), PAYLOAD_BYTES, CALL_DEADLINE_SECONDS)) {
        assertEquals(0, client.awaitExit(CLIENT_RUN), "client exit code under " + percent + "% loss\n" + client.tail());
      }
      long ms = (System.nanoTime() - t0) / 1_000_000;
      EchoServerProgram.Stats after = server.stats();
      PacketLoss.Counts counts = loss.counts();
      System.out.printf("[it] udp io=%s, %d%% loss: %d calls in %d ms; %s%n", io, percent, CALLS, ms, counts);

      assertEquals(CALLS, after.executions() - before.executions(), "Echo handler executions: each call exactly once");
      assertEquals(CALLS, after.calls("udp") - before.calls("udp"), "calls carried by udp");
      assertTrue(counts.dropped() > 0, "nftables dropped nothing, so the loss was not real: " + counts);
    }
  }
}
