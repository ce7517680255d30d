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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * One unchanged client program ({@link EchoClientProgram}, its own JVM on host a) calls the
 * server ({@link EchoServerProgram}, its own JVM on host b) across the veth link over tcp, grpc and
 * udp, the transport chosen by configuration alone, with all four call kinds. The server confirms
 * which transport carried each call and that the calls came from host a's address.
 */
class CrossHostCallsTest {
  private static final int ROUNDS = 3;
  private static final int CALLS = ROUNDS * 4;
  // Over 1200 bytes, so udp fragments and reassembles every message.
  private static final String PAYLOAD_BYTES = "2000";
  private static final Duration CLIENT_RUN = Duration.ofSeconds(90);

  static TestNetwork net;
  static ServerProcess server;

  @BeforeAll
  static void start() {
    Requirements.assumeNamespaces();
    net = TestNetwork.create();
    Requirements.requireUdp();
    List<String> schemes = List.of("tcp", "grpc", "udp");
    server = ServerProcess.echoServer(net.b(), "calls-server", schemes);
  }

  @AfterAll
  static void stop() {
    try {
      if (server != null) {
        server.close();
      }
    } finally {
      if (net != null) {
        net.close();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tcp", "grpc", "udp"})
  void sameClientProgramAcrossHosts(String scheme) {
    Path config = Clients.configFile("calls-" + scheme, server.target(scheme));
    EchoServerProgram.Stats before = server.stats();
    runClient("calls-client-" + scheme, Map.of("BRIDGE_CONFIG", config.toString()));
    EchoServerProgram.Stats after = server.stats();

    assertEquals(CALLS, after.executions() - before.executions(), "Echo handler executions");
    assertEquals(CALLS, after.calls(scheme) - before.calls(scheme), "calls carried by " + scheme);
    assertEquals(Set.of(net.a().address()), after.peers(scheme), "peers seen over " + scheme);
  }

  @Test
  void environmentVariableOverridesTheConfigFile() {
    Path config = Clients.configFile("calls-override", server.target("tcp"));
    EchoServerProgram.Stats before = server.stats();
    runClient(
        "calls-client-env-override", Map.of("BRIDGE_CONFIG", config.toString(), "BRIDGE_CLIENTS_ECHO_TARGET", server.target("grpc")));
    EchoServerProgram.Stats after = server.stats();

    assertEquals(CALLS, after.calls("grpc") - before.calls("grpc"), "calls over grpc, named by the environment");
    assertEquals(0, after.calls("tcp") - before.calls("tcp"), "calls over tcp, named by the overridden file");
  }

  private static void runClient(String name, Map<String, String> env) {
    long t0 = System.nanoTime();
    try (ChildProcess client = Clients.start(net.a(), name, env, "run", String.valueOf(ROUNDS), PAYLOAD_BYTES)) {
      int exit = client.awaitExit(CLIENT_RUN);
      assertEquals(0, exit, "client exit code\n" + client.tail());
      String done = client.awaitLineStartingWith("DONE ", Duration.ofSeconds(1));
      assertTrue(done.startsWith("DONE " + CALLS + " "), done);
      System.out.printf("[it] %s: %d calls, all four kinds, in %d ms (process %d ms)%n",
          name, CALLS, Long.parseLong(done.split(" ")[2]), (System.nanoTime() - t0) / 1_000_000);
    }
  }
}
