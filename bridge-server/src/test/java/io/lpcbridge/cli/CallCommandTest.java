package io.lpcbridge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.client.BridgeConfig;
import io.lpcbridge.transport.Target;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code bridge call} against the services of {@code bridge serve}, hosted in this JVM, over real sockets. */
class CallCommandTest {
  @TempDir static Path dir;
  static ServedServices served;

  @BeforeAll
  static void start() throws Exception {
    served =
        ServedServices.start(
            List.of(
                endpoint("tcp://127.0.0.1:0"), endpoint("unix://" + dir.resolve("s.sock")), endpoint("grpc://127.0.0.1:0")),
            false);
  }

  @AfterAll
  static void stop() throws InterruptedException {
    served.stop(Duration.ofSeconds(1));
  }

  private static BridgeConfig.Endpoint endpoint(String target) {
    return new BridgeConfig.Endpoint(Target.parse(target), Map.of());
  }

  private static String target(String scheme) {
    return served.targets().stream().filter(t -> t.scheme().equals(scheme)).findFirst().orElseThrow().toString();
  }

  private static Cli ok(String... args) {
    Cli r = Cli.run(args);
    assertEquals(0, r.exit(), r::toString);
    assertEquals("", r.err(), r::toString);
    return r;
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix", "grpc"})
  void unaryPutThenGet(String scheme) {
    String t = target(scheme);
    String key = "unary-" + scheme;
    Cli put = ok("call", t, "bridge.kv.v1.KeyValue/Put", "{\"key\":\"" + key + "\",\"value\":\"aGk=\"}");
    assertTrue(put.lines().size() == 1 && put.lines().get(0).matches("\\{\"version\":\"\\d+\"}"), put::toString);
    String version = put.lines().get(0).replaceAll("\\D", "");

    Cli get = ok("call", t, "KeyValue/Get", "{\"key\":\"" + key + "\"}");
    assertEquals(List.of("{\"value\":\"aGk=\",\"version\":\"" + version + "\"}"), get.lines());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix", "grpc"})
  void serverStreamingScan(String scheme) {
    String t = target(scheme);
    String prefix = "scan-" + scheme + "/";
    for (String k : List.of("a", "b", "c")) {
      ok("call", t, "KeyValue/Put", "{\"key\":\"" + prefix + k + "\",\"value\":\"eA==\"}");
    }
    Cli scan = ok("call", t, "KeyValue/Scan", "{\"startKey\":\"" + prefix + "\",\"endKey\":\"" + prefix + "~\"}");
    List<String> lines = scan.lines();
    assertEquals(3, lines.size(), scan::toString);
    for (int i = 0; i < 3; i++) {
      String k = prefix + "abc".charAt(i);
      assertTrue(lines.get(i).startsWith("{\"key\":\"" + k + "\",\"value\":\"eA==\",\"version\":\""), lines.get(i));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix", "grpc"})
  void methodFoundThroughTheServersReflection(String scheme) {
    Cli r = ok("call", "--reflection", target(scheme), "Echo/Say", "{\"payload\":\"AQID\"}");
    assertEquals(List.of("{\"payload\":\"AQID\"}"), r.lines());
  }

  @Test
  void clientStreamingAndBidiTakeOneRequestPerArgument() {
    Cli collect = ok("call", target("tcp"), "Echo/Collect", "{\"payload\":\"AA==\"}", "{\"payload\":\"AQI=\"}");
    assertEquals(List.of("{\"receivedCount\":2,\"receivedBytes\":\"3\"}"), collect.lines());
    Cli chat = ok("call", target("unix"), "Echo/Chat", "{\"payload\":\"AA==\"}", "{\"payload\":\"AQI=\"}");
    assertEquals(List.of("{\"payload\":\"AA==\"}", "{\"payload\":\"AQI=\",\"index\":1}"), chat.lines());
  }

  @Test
  void healthServiceAnswers() {
    assertEquals(List.of("{\"status\":\"SERVING\"}"), ok("call", target("grpc"), "grpc.health.v1.Health/Check").lines());
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "grpc"})
  void notFoundIsReportedWithExitCode1(String scheme) {
    Cli r = Cli.run("call", target(scheme), "KeyValue/Get", "{\"key\":\"absent\"}");
    assertEquals(1, r.exit(), r::toString);
    assertEquals("", r.out());
    assertEquals("ERROR NOT_FOUND: no key 'absent'\n", r.err());
  }

  @Test
  void unknownMethodIsAUsageError() {
    Cli r = Cli.run("call", target("tcp"), "KeyValue/Putt", "{}");
    assertEquals(2, r.exit(), r::toString);
    assertEquals(
        "bridge call: unknown method 'Putt' in service bridge.kv.v1.KeyValue; its methods: Put, Get, Delete, Scan, Watch\n",
        r.err());
  }

  @Test
  void unknownServiceNamesWhatTheServerOffers() {
    Cli r = Cli.run("call", target("unix"), "Nope/Get", "{}");
    assertEquals(2, r.exit(), r::toString);
    assertTrue(r.err().startsWith("bridge call: unknown service 'Nope': the server at " + target("unix") + " offers bridge.demo.v1.Echo, bridge.kv.v1.KeyValue,"), r::toString);
  }

  @Test
  void malformedJsonIsAUsageError() {
    Cli r = Cli.run("call", target("tcp"), "KeyValue/Get", "{\"kez\":\"a\"}");
    assertEquals(2, r.exit(), r::toString);
    assertEquals(
        "bridge call: JSON argument 1 is not a valid bridge.kv.v1.GetRequest: Cannot find field: kez in message bridge.kv.v1.GetRequest\n",
        r.err());
  }

  @Test
  void unreachableServerIsAFailure() {
    Cli r = Cli.run("call", "unix://" + dir.resolve("nobody.sock"), "KeyValue/Get", "{}");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.err().startsWith("ERROR UNAVAILABLE: "), r::toString);
    assertFalse(r.err().contains("\tat "), "no stack trace");
  }

  @Test
  void deadlineExceeded() {
    Cli r = Cli.run("call", "--deadline", "100ms", target("tcp"), "Echo/Say", "{\"delayMillis\":\"2000\"}");
    assertEquals(1, r.exit(), r::toString);
    assertTrue(r.err().startsWith("ERROR DEADLINE_EXCEEDED"), r::toString);
  }

  @Test
  void malformedHeaderIsAUsageError() {
    Cli r = Cli.run("call", "-H", "no-equals-sign", target("tcp"), "Echo/Say");
    assertEquals(2, r.exit(), r::toString);
    assertEquals("bridge call: header 'no-equals-sign' is not KEY=VALUE\n", r.err());
    ok("call", "-H", "x-trace=abc", target("tcp"), "Echo/Say");
  }
}
