package io.lpcbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The forwarding bridge across hosts, as the issue draws it: the application on host a calls its
 * local bridge over a Unix socket; that bridge ({@code bridge serve --no-demo --forward ...}, its
 * own process on host a) hosts nothing itself and forwards every call over tcp, grpc or udp to the
 * service on host b ({@link EchoServerProgram}, its own process). All four call kinds; the service
 * counts the executions and sees the calls arrive from host a's bridge over the chosen transport.
 */
class ForwardingAcrossHostsTest {
  private static final int ROUNDS = 3;
  private static final int CALLS = ROUNDS * 4;
  private static final Duration CLIENT_RUN = Duration.ofSeconds(90);

  static TestNetwork net;
  static ServerProcess service;

  @BeforeAll
  static void start() {
    Requirements.assumeNamespaces();
    net = TestNetwork.create();
    Requirements.requireUdp();
    List<String> schemes = List.of("tcp", "grpc", "udp");
    service = ServerProcess.echoServer(net.b(), "fwd-service", schemes);
  }

  @AfterAll
  static void stop() {
    try {
      if (service != null) {
        service.close();
      }
    } finally {
      if (net != null) {
        net.close();
      }
    }
  }

  @ParameterizedTest(name = "app -unix-> bridge a -{0}-> service b")
  @ValueSource(strings = {"tcp", "grpc", "udp"})
  void applicationCallsItsLocalBridgeWhichForwardsAcrossHosts(String scheme) {
    Path socket = Workspace.dir("fwd-" + scheme).resolve("bridge.sock");
    try (ServerProcess bridgeA =
        ServerProcess.bridgeServe(
            net.a(), "fwd-bridge-a-" + scheme, "--no-demo", "--target", "unix://" + socket, "--forward", service.target(scheme))) {
      Path config = Clients.configFile("fwd-client-" + scheme, bridgeA.target("unix"));
      EchoServerProgram.Stats before = service.stats();
      try (ChildProcess app = Clients.start(net.a(), "fwd-app-" + scheme, Map.of("BRIDGE_CONFIG", config.toString()), "run", String.valueOf(ROUNDS), "2000")) {
        assertEquals(0, app.awaitExit(CLIENT_RUN), "application exit code\n" + app.tail());
        String done = app.awaitLineStartingWith("DONE ", Duration.ofSeconds(1));
        assertTrue(done.startsWith("DONE " + CALLS + " "), done);
      }
      EchoServerProgram.Stats after = service.stats();
      assertEquals(CALLS, after.executions() - before.executions(), "Echo executions on host b");
      assertEquals(CALLS, after.calls(scheme) - before.calls(scheme), "calls that reached host b over " + scheme);
      assertEquals(Set.of(net.a().address()), after.peers(scheme), "host b's callers over " + scheme);
      assertTrue(bridgeA.isAlive(), "the forwarding bridge is still up");
    }
  }
}
