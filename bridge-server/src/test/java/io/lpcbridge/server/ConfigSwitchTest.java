package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.lpcbridge.demo.KeyValueService;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One unchanged client program ({@link KvClientProgram}, run as its own process) reaches the
 * server over tcp, unix and grpc, switched by a config file, an environment variable or a system
 * property: never by code.
 */
class ConfigSwitchTest {
  static BridgeServer server;
  static final BlockingQueue<String> transports = new LinkedBlockingQueue<>();
  @TempDir static Path dir;

  @BeforeAll
  static void start() throws Exception {
    ServerInterceptor recordTransport =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            String t = call.getAttributes().get(BridgeServer.TRANSPORT);
            transports.add(t == null ? "grpc" : t);
            return next.startCall(call, headers);
          }
        };
    server =
        BridgeServerBuilder.forTargets("tcp://127.0.0.1:0", "unix://" + dir.resolve("kv.sock"), "grpc://127.0.0.1:0")
            .addService(new KeyValueService())
            .intercept(recordTransport)
            .build()
            .start();
  }

  @AfterAll
  static void stop() {
    server.shutdownNow();
  }

  private static String target(String scheme) {
    return server.targets().stream().filter(t -> t.scheme().equals(scheme)).findFirst().orElseThrow().toString();
  }

  private static String run(Map<String, String> env, List<String> jvmArgs) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(KvClientProgram.class.getName());
    cmd.add("key");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(dir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("BRIDGE_"));
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("client program hung; output: " + out);
    }
    assertEquals(0, p.exitValue(), out);
    return out.strip();
  }

  private static void assertServedOver(String scheme) throws InterruptedException {
    // The program makes two calls; both went over the configured transport.
    assertEquals(scheme, transports.poll(10, TimeUnit.SECONDS));
    assertEquals(scheme, transports.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void configFileChoosesTheTransport() throws Exception {
    for (String scheme : List.of("tcp", "unix", "grpc")) {
      transports.clear();
      Path file = dir.resolve("bridge-" + scheme + ".yaml");
      Files.writeString(file, "clients:\n  kv:\n    target: " + target(scheme) + "\n    options:\n      connectTimeout: 5s\n");
      assertEquals("OK v", run(Map.of("BRIDGE_CONFIG", file.toString()), List.of()));
      assertServedOver(scheme);
    }
  }

  @Test
  void environmentVariableOverridesTheFile() throws Exception {
    transports.clear();
    Path file = dir.resolve("bridge.yaml");
    Files.writeString(file, "clients:\n  kv:\n    target: " + target("tcp") + "\n");
    assertEquals("OK v", run(Map.of("BRIDGE_CONFIG", file.toString(), "BRIDGE_CLIENTS_KV_TARGET", target("unix")), List.of()));
    assertServedOver("unix");
  }

  @Test
  void systemPropertyOverridesEnvironment() throws Exception {
    transports.clear();
    assertEquals(
        "OK v",
        run(Map.of("BRIDGE_CLIENTS_KV_TARGET", target("unix")), List.of("-Dbridge.clients.kv.target=" + target("grpc"))));
    assertServedOver("grpc");
  }
}
