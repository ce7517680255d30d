package io.lpcbridge.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BridgeConfigTest {
  @TempDir Path dir;

  private Path yaml(String text) throws Exception {
    Path f = dir.resolve("bridge.yaml");
    Files.writeString(f, text);
    return f;
  }

  private static Properties props(String... kv) {
    Properties p = new Properties();
    for (int i = 0; i < kv.length; i += 2) {
      p.setProperty(kv[i], kv[i + 1]);
    }
    return p;
  }

  @Test
  void readsClientsServersAndDefaults() throws Exception {
    Path f =
        yaml(
            """
            defaults:
              connectTimeout: 3s
            clients:
              kv:
                target: unix:///run/kv.sock
                options: {maxMessageSize: 8m}
              echo: tcp://localhost:7000
            servers:
              kv:
                targets:
                  - unix:///run/kv.sock
                  - target: tcp://0.0.0.0:7000
                    options: {writeHighWaterMark: 2m}
            """);
    BridgeConfig c = BridgeConfig.load(f, Map.of(), new Properties());
    BridgeConfig.Endpoint kv = c.client("kv");
    assertEquals("unix:///run/kv.sock", kv.target().toString());
    assertEquals(Map.of("connectTimeout", "3s", "maxMessageSize", "8m"), kv.options());
    assertEquals("tcp://localhost:7000", c.client("echo").target().toString());
    List<BridgeConfig.Endpoint> s = c.server("kv");
    assertEquals(2, s.size());
    assertEquals("2m", s.get(1).options().get("writeHighWaterMark"));
    assertEquals("3s", s.get(1).options().get("connectTimeout"));
  }

  @Test
  void readsWhereAServerForwards() throws Exception {
    Path f =
        yaml(
            """
            servers:
              edge:
                targets: [unix:///run/edge.sock]
                forward:
                  targets: [tcp://b1:7000, grpc://b2:7001]
                  loadBalancing: round_robin
                  healthCheck: true
              simple:
                targets: [unix:///run/s.sock]
                forward: tcp://b:7000
            """);
    BridgeConfig c = BridgeConfig.load(f, Map.of(), new Properties());
    BridgeConfig.Forward edge = c.forward("edge").orElseThrow();
    assertEquals(List.of("tcp://b1:7000", "grpc://b2:7001"), edge.targets().stream().map(Object::toString).toList());
    assertEquals("round_robin", edge.loadBalancing());
    assertEquals("", edge.healthCheck());
    BridgeConfig.Forward simple = c.forward("simple").orElseThrow();
    assertEquals(null, simple.loadBalancing());
    assertEquals(null, simple.healthCheck());
    assertTrue(c.forward("other").isEmpty());

    Path bad = yaml("servers:\n  s:\n    targets: [tcp://a:1]\n    forward: {targets: tcp://b:1, balancing: rr}\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BridgeConfig.load(bad, Map.of(), new Properties()));
    assertTrue(e.getMessage().contains("unknown key 'balancing'"), e.getMessage());
    Path badPolicy = yaml("servers:\n  s:\n    targets: [tcp://a:1]\n    forward: {targets: tcp://b:1, loadBalancing: fastest}\n");
    BridgeConfig withBadPolicy = BridgeConfig.load(badPolicy, Map.of(), new Properties());
    e = assertThrows(IllegalArgumentException.class, () -> withBadPolicy.forward("s").orElseThrow().channelBuilder());
    assertTrue(e.getMessage().contains("unknown load-balancing policy 'fastest'"), e.getMessage());
  }

  @Test
  void environmentThenSystemPropertiesOverride() throws Exception {
    Path f = yaml("clients:\n  kv-store:\n    target: tcp://a:1\n");
    BridgeConfig env =
        BridgeConfig.load(
            f, Map.of("BRIDGE_CLIENTS_KV_STORE_TARGET", "unix:///x.sock", "BRIDGE_CLIENTS_KV_STORE_OPTIONS_CONNECTTIMEOUT", "2s"), new Properties());
    assertEquals("unix:///x.sock", env.client("kv-store").target().toString());
    assertEquals("2s", env.client("kv-store").options().get("connectTimeout"));
    BridgeConfig both =
        BridgeConfig.load(
            f, Map.of("BRIDGE_CLIENTS_KV_STORE_TARGET", "unix:///x.sock"), props("bridge.clients.kv-store.target", "grpc://h:9"));
    assertEquals("grpc://h:9", both.client("kv-store").target().toString());
  }

  @Test
  void aClientNamedOnlyByTheEnvironmentIsFound() {
    BridgeConfig c = BridgeConfig.load(null, Map.of("BRIDGE_CLIENTS_KV_STORE_TARGET", "tcp://h:3"), new Properties());
    assertEquals("tcp://h:3", c.client("kv-store").target().toString());
    assertEquals("tcp://h:3", c.client("kv_store").target().toString());
  }

  @Test
  void clientsAndServersCanComeFromOverridesAlone() {
    BridgeConfig c =
        BridgeConfig.load(
            null, Map.of("BRIDGE_SERVERS_DEMO_TARGETS", "tcp://0.0.0.0:1,unix:///y"), props("bridge.clients.kv.target", "tcp://h:2"));
    assertEquals("tcp://h:2", c.client("kv").target().toString());
    assertEquals(2, c.server("demo").size());
  }

  @Test
  void errorsNameTheProblemAndWhereToFixIt() throws Exception {
    BridgeConfig empty = BridgeConfig.load(null, Map.of(), new Properties());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> empty.client("kv"));
    assertTrue(missing.getMessage().contains("BRIDGE_CLIENTS_KV_TARGET"), missing.getMessage());

    Path bad = yaml("clients:\n  kv:\n    target: nocolon\n");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BridgeConfig.load(bad, Map.of(), new Properties()));
    assertTrue(e.getMessage().contains("clients.kv") && e.getMessage().contains("has no scheme"), e.getMessage());

    Path typo = yaml("client:\n  kv: tcp://a:1\n");
    e = assertThrows(IllegalArgumentException.class, () -> BridgeConfig.load(typo, Map.of(), new Properties()));
    assertTrue(e.getMessage().contains("unknown top-level key 'client'"), e.getMessage());

    Path notYaml = yaml("clients: [unclosed\n");
    e = assertThrows(IllegalArgumentException.class, () -> BridgeConfig.load(notYaml, Map.of(), new Properties()));
    assertTrue(e.getMessage().contains("not valid YAML"), e.getMessage());
  }

  @Test
  void unknownTransportOptionIsRefusedAtBuild() throws Exception {
    Path f = yaml("clients:\n  kv:\n    target: tcp://localhost:1\n    options: {conectTimeout: 1s}\n");
    BridgeConfig c = BridgeConfig.load(f, Map.of(), new Properties());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.channelBuilder("kv").build());
    assertTrue(e.getMessage().contains("unknown option 'conectTimeout' for transport tcp"), e.getMessage());
  }

  @Test
  void unknownSchemeIsRefusedAtBuildWithTheKnownOnes() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> BridgeChannelBuilder.forTarget("carrier-pigeon://x").build());
    assertTrue(e.getMessage().contains("no transport for scheme 'carrier-pigeon'"), e.getMessage());
    assertTrue(e.getMessage().contains("tcp"), e.getMessage());
  }
}
