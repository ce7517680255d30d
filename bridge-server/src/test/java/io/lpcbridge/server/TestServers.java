package io.lpcbridge.server;

import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.KeyValueService;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A BridgeServer on every foundation transport at once, and channels to it, for tests. */
final class TestServers implements AutoCloseable {
  /** The transports every RPC test runs over. */
  static final List<String> SCHEMES = List.of("tcp", "unix", "grpc");

  final EchoService echo = new EchoService();
  final KeyValueService kv = new KeyValueService();
  final BridgeServer server;
  final Path dir;
  private final List<ManagedChannel> channels = new ArrayList<>();

  TestServers(ServerInterceptor... interceptors) throws IOException {
    dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "srv");
    BridgeServerBuilder b =
        BridgeServerBuilder.forTargets("tcp://127.0.0.1:0", "unix://" + dir.resolve("s.sock"), "grpc://127.0.0.1:0")
            .addService(echo)
            .addService(kv);
    for (ServerInterceptor i : interceptors) {
      b.intercept(i);
    }
    server = b.build().start();
  }

  /** The bound target of the given scheme. */
  String target(String scheme) {
    return server.targets().stream()
        .filter(t -> t.scheme().equals(scheme))
        .findFirst()
        .orElseThrow()
        .toString();
  }

  ManagedChannel channel(String scheme) {
    return channel(BridgeChannelBuilder.forTarget(target(scheme)));
  }

  ManagedChannel channel(BridgeChannelBuilder builder) {
    ManagedChannel ch = builder.reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    channels.add(ch);
    return ch;
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
    }
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }
}
