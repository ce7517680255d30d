package io.lpcbridge.server;

import io.grpc.ManagedChannel;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.KeyValueService;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A BridgeServer on every transport that can listen on this host at once, and channels to it, for
 * tests: the foundation three (tcp, unix, grpc), the local IPC family (unix+dgram, fifo, mq, and
 * pipe/socketpair between two components of this process) and udp.
 */
final class TestServers implements AutoCloseable {
  /**
   * The transports every RPC test runs over: a scheme, or a scheme with an option that changes how
   * it works ({@code tcp[io=jdk]}, {@code udp[io=jdk]}: JDK sockets instead of Netty).
   */
  static final List<String> SCHEMES = List.of(
      "tcp", "tcp[io=jdk]", "unix", "grpc", "unix+dgram", "fifo", "mq", "pipe", "socketpair", "udp", "udp[io=jdk]", "shm");

  /**
   * Options per scheme, on both ends, beyond those in its name. POSIX queues are small on purpose:
   * with Linux's default RLIMIT_MSGQUEUE (800 KiB) only a few default-sized queue pairs fit, and
   * these tests open many connections; messages larger than a queue message are fragmented, which
   * this also tests.
   */
  static final Map<String, Map<String, String>> OPTIONS = Map.of("mq", Map.of("queueDepth", "3", "messageSize", "4096"));

  /** The scheme of an entry of {@link #SCHEMES}: {@code tcp[io=jdk]} is {@code tcp}. */
  static String schemeOf(String name) {
    int bracket = name.indexOf('[');
    return bracket < 0 ? name : name.substring(0, bracket);
  }

  /** The options of an entry of {@link #SCHEMES}: those in its name and {@link #OPTIONS}. */
  static Map<String, String> optionsOf(String name) {
    Map<String, String> out = new java.util.LinkedHashMap<>(OPTIONS.getOrDefault(schemeOf(name), Map.of()));
    int bracket = name.indexOf('[');
    if (bracket >= 0) {
      String kv = name.substring(bracket + 1, name.length() - 1);
      out.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    return out;
  }

  /** The bound target of each entry of {@link #SCHEMES}. */
  private final Map<String, Target> bound = new java.util.HashMap<>();

  final EchoService echo = new EchoService();
  final KeyValueService kv = new KeyValueService();
  final BridgeServer server;
  final Path dir;
  private final List<ManagedChannel> channels = new ArrayList<>();

  TestServers(ServerInterceptor... interceptors) throws IOException {
    this(List.of(), interceptors);
  }

  /** Also hosts {@code extraServices}, e.g. a test's own handlers. */
  TestServers(List<ServerServiceDefinition> extraServices, ServerInterceptor... interceptors) throws IOException {
    dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "srv");
    String unique = ProcessHandle.current().pid() + "-" + System.nanoTime();
    BridgeServerBuilder b = BridgeServerBuilder.create().addService(echo).addService(kv);
    for (ServerServiceDefinition extra : extraServices) {
      b.addService(extra);
    }
    for (String name : SCHEMES) {
      String scheme = schemeOf(name);
      String target =
          switch (scheme) {
            case "tcp", "grpc", "udp" -> scheme + "://127.0.0.1:0";
            case "unix" -> "unix://" + dir.resolve("s.sock");
            case "unix+dgram" -> "unix+dgram://" + dir.resolve("d.sock");
            case "fifo" -> "fifo://" + dir.resolve("fifo");
            case "mq" -> "mq:///lpcbridge-test-" + unique;
            case "shm" -> "shm://test-" + unique;
            case "pipe", "socketpair" -> scheme + ":@test-" + unique;
            default -> throw new IllegalArgumentException(scheme);
          };
      b.listen(Target.parse(target), optionsOf(name));
    }
    for (ServerInterceptor i : interceptors) {
      b.intercept(i);
    }
    server = b.build().start();
    List<Target> targets = server.targets(); // in the order listened on
    for (int i = 0; i < SCHEMES.size(); i++) {
      bound.put(SCHEMES.get(i), targets.get(i));
    }
  }

  /** The bound target of an entry of {@link #SCHEMES}. */
  String target(String name) {
    Target t = bound.get(name);
    if (t == null) {
      throw new IllegalArgumentException("no test server for " + name);
    }
    return t.toString();
  }

  ManagedChannel channel(String name) {
    return channel(BridgeChannelBuilder.forTarget(target(name)).transportOptions(optionsOf(name)));
  }

  ManagedChannel channel(BridgeChannelBuilder builder) {
    ManagedChannel ch = builder.reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(500)).build();
    channels.add(ch);
    return ch;
  }

  /**
   * For handlers that wait on the test: awaits {@code latch} for up to {@code seconds}; false if it
   * timed out or the thread was interrupted (its interrupt status kept).
   */
  static boolean await(java.util.concurrent.CountDownLatch latch, long seconds) {
    try {
      return latch.await(seconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether the transport of {@code scheme} has {@link Capability#INLINE_RECEIVE} (and so a reader thread of its own). */
  boolean receivesInline(String name) throws IOException {
    return Transports.forTarget(Target.parse(target(name)))
        .capabilities(io.lpcbridge.transport.TransportOptions.of(optionsOf(name)))
        .contains(Capability.INLINE_RECEIVE);
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
