package io.lpcbridge.it;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The cable is pulled in the middle of a stream ({@code ip link set ... down} on host a's veth
 * end): the stream, and a new call made while the link is down, end with DEADLINE_EXCEEDED or
 * UNAVAILABLE within their deadlines, never hang. Once the link is back up, new calls on the same
 * channel succeed: neither the client process nor the server process is restarted.
 */
class LinkDownTest {
  private static final Set<String> ACCEPTABLE = Set.of("DEADLINE_EXCEEDED", "UNAVAILABLE");
  // 30 messages 100 ms apart: about 3 s on a healthy link, well inside the 8 s deadline.
  private static final int STREAM_MESSAGES = 30;
  private static final long STREAM_GAP_MS = 100;
  private static final long STREAM_DEADLINE_MS = 8_000;
  private static final long CALL_DEADLINE_MS = 2_000;
  // How long the link may take to carry calls again (TCP retransmission backoff, reconnection backoff).
  private static final Duration RECOVERY = Duration.ofSeconds(60);
  // The client program bounds every wait by deadline + 5 s; this adds room for a loaded machine.
  private static final Duration SLACK = Duration.ofSeconds(10);

  static TestNetwork net;
  static ServerProcess server;
  /** udp on the other engine ({@code io=jdk}), both ends. */
  static ServerProcess jdkServer;

  @BeforeAll
  static void start() {
    Requirements.assumeNamespaces();
    net = TestNetwork.create();
    Requirements.requireUdp();
    List<String> schemes = List.of("tcp", "grpc", "udp");
    server = ServerProcess.echoServer(net.b(), "linkdown-server", schemes);
    jdkServer = ServerProcess.echoServer(net.b(), "linkdown-server-jdk", List.of("udp"), "?io=jdk");
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

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "grpc", "udp", "udp[io=jdk]"})
  @Timeout(value = 240, unit = TimeUnit.SECONDS) // a backstop: every wait below is bounded on its own
  void callsFailWhileTheLinkIsDownAndSucceedOnceItIsBack(String scheme) {
    boolean jdk = scheme.equals("udp[io=jdk]");
    ServerProcess server = jdk ? jdkServer : LinkDownTest.server;
    String name = jdk ? "udp-jdk" : scheme;
    Path config = Clients.configFile("linkdown-" + name, server.target(jdk ? "udp" : scheme), "5s", jdk ? Map.of("io", "jdk") : Map.of());
    try (ChildProcess client = Clients.start(net.a(), "linkdown-client-" + name, config, "interactive")) {
      client.send("all 10000");
      expectOk(awaitAll(client, ServerProcess.STARTUP), "the four call kinds before the link goes down");

      client.send("stream " + STREAM_MESSAGES + " " + STREAM_GAP_MS + " " + STREAM_DEADLINE_MS);
      String flowing = client.awaitLineStartingWith("STREAM ", Duration.ofMillis(STREAM_DEADLINE_MS).plus(SLACK));
      assertTrue(flowing.equals("STREAM flowing"), "the stream should flow before the link goes down: " + flowing);
      pause(Duration.ofMillis(500));
      long down = System.nanoTime();
      net.linkDown(net.a());
      try {
        String end = client.awaitLineStartingWith("STREAM end ", Duration.ofMillis(STREAM_DEADLINE_MS).plus(SLACK));
        expectFailure(end, 2, "the stream cut in the middle");
        System.out.printf("[it] %s: stream cut %d ms after the link went down: %s%n", scheme, (System.nanoTime() - down) / 1_000_000, end);

        client.send("say " + CALL_DEADLINE_MS);
        String say = client.awaitLine(l -> l.startsWith("OK say") || l.startsWith("FAIL say"), Duration.ofMillis(CALL_DEADLINE_MS).plus(SLACK), "the say result");
        expectFailure(say, 2, "a new call while the link is down");
        long took = Long.parseLong(say.split(" ")[3].replace(":", ""));
        assertTrue(took < CALL_DEADLINE_MS + 5_000, "a call with a " + CALL_DEADLINE_MS + " ms deadline took " + took + " ms: " + say);
        System.out.printf("[it] %s: call while the link is down: %s%n", scheme, say);
      } finally {
        net.linkUp(net.a());
      }
      long up = System.nanoTime();
      System.out.printf("[it] %s: link was down %d ms%n", scheme, (up - down) / 1_000_000);

      long deadline = up + RECOVERY.toNanos();
      String last = null;
      int attempts = 0;
      while (System.nanoTime() < deadline) {
        attempts++;
        client.send("say " + CALL_DEADLINE_MS);
        last = client.awaitLine(l -> l.startsWith("OK say") || l.startsWith("FAIL say"), Duration.ofMillis(CALL_DEADLINE_MS).plus(SLACK), "the say result");
        if (last.startsWith("OK")) {
          break;
        }
        expectFailure(last, 2, "a call while the link recovers");
        pause(Duration.ofMillis(500));
      }
      if (last == null || !last.startsWith("OK")) {
        fail("no call succeeded within " + RECOVERY.toSeconds() + " s of the link coming back; last: " + last + "\n" + client.tail());
      }
      System.out.printf("[it] %s: first call succeeded %d ms after the link came back (%d attempts)%n",
          scheme, (System.nanoTime() - up) / 1_000_000, attempts);

      client.send("all 10000");
      expectOk(awaitAll(client, Duration.ofSeconds(10).plus(SLACK)), "the four call kinds after the link is back");
      assertTrue(client.isAlive(), "the client process is the same one");
      assertTrue(server.isAlive(), "the server process is the same one");
    }
  }

  private static String awaitAll(ChildProcess client, Duration timeout) {
    return client.awaitLine(l -> l.startsWith("OK all") || l.startsWith("FAIL all"), timeout, "the result of 'all'");
  }

  private static void expectOk(String line, String what) {
    assertTrue(line.startsWith("OK"), what + ": " + line);
  }

  /** The line reports a failure whose status code (word {@code codeIndex}) is DEADLINE_EXCEEDED or UNAVAILABLE. */
  private static void expectFailure(String line, int codeIndex, String what) {
    String[] w = line.split(" ");
    assertTrue(w.length > codeIndex && ACCEPTABLE.contains(w[codeIndex]), what + " should end with " + ACCEPTABLE + ": " + line);
  }

  private static void pause(Duration d) {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
