package io.lpcbridge.interop;

import io.grpc.ManagedChannelBuilder;
import io.grpc.ServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.server.BridgeServer;
import io.lpcbridge.server.BridgeServerBuilder;
import io.lpcbridge.transport.Target;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * gRPC's interop cases with a {@link BridgeServer} serving {@code TestServiceImpl} on one target and
 * a channel from {@link BridgeChannelBuilder} calling it. On {@code tcp} and {@code unix} both ends
 * speak the bridge wire protocol; on {@code grpc} the builders produce stock grpc-netty endpoints,
 * the reference run.
 *
 * <p>Sizes as grpc-java's own Netty interop tests set them: {@link #MAX_MESSAGE_SIZE} inbound and a
 * {@link #TEST_FLOW_CONTROL_WINDOW} per-call window on both ends. The cases' stream tracers are the
 * bridge's own (BridgeServerBuilder.addStreamTracerFactory, CallOptions' tracer factories); {@link
 * #metricsExpected()} is false because no census module is installed, so census records are not
 * checked.
 */
final class BridgeInteropCases extends AbstractInteropTest {
  private final String scheme;
  /** Options on both ends beyond the scheme's own, e.g. tcp's {@code io=jdk}. */
  private final Map<String, String> extraOptions;
  private Path socketDir;
  private CapturingServerBuilder serverBuilder;

  BridgeInteropCases(String scheme) {
    this(scheme, Map.of());
  }

  BridgeInteropCases(String scheme, Map<String, String> extraOptions) {
    this.scheme = scheme;
    this.extraOptions = Map.copyOf(extraOptions);
  }

  private String listenTarget() {
    String unique = ProcessHandle.current().pid() + "-" + System.nanoTime();
    return switch (scheme) {
      case "tcp", "grpc", "udp" -> scheme + "://127.0.0.1:0";
      case "unix", "unix+dgram" -> scheme + "://" + socketDir().resolve("s.sock");
      case "fifo" -> "fifo://" + socketDir().resolve("fifo");
      case "mq" -> "mq:///lpcbridge-interop-" + unique;
      case "shm" -> "shm://interop-" + unique;
      // Two components of this process: the server end and the channel meet by name.
      case "pipe", "socketpair" -> scheme + ":@interop-" + unique;
      default -> throw new IllegalArgumentException("no interop target for scheme " + scheme);
    };
  }

  private Path socketDir() {
    try {
      socketDir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "interop");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return socketDir;
  }

  /** Small POSIX queues, as the RPC tests use: many fit in the default RLIMIT_MSGQUEUE. */
  private Map<String, String> options() {
    return scheme.equals("mq") ? Map.of("queueDepth", "3", "messageSize", "4096") : extraOptions;
  }

  @Override
  protected ServerBuilder<?> getServerBuilder() {
    BridgeServerBuilder b =
        BridgeServerBuilder.create()
            .listen(Target.parse(listenTarget()), options())
            .maxInboundMessageSize(MAX_MESSAGE_SIZE)
            .flowControlWindow(TEST_FLOW_CONTROL_WINDOW);
    serverBuilder = new CapturingServerBuilder(b);
    return serverBuilder;
  }

  @Override
  protected ManagedChannelBuilder<?> createChannelBuilder() {
    Target bound = serverBuilder.server().targets().getFirst();
    return BridgeChannelBuilder.forTarget(bound)
        .transportOptions(options())
        .maxInboundMessageSize(MAX_MESSAGE_SIZE)
        .flowControlWindow(TEST_FLOW_CONTROL_WINDOW);
  }

  @Override
  protected boolean metricsExpected() {
    return false;
  }

  @Override
  public void tearDown() {
    super.tearDown();
    try {
      if (serverBuilder != null) {
        serverBuilder.server().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IllegalStateException notBuilt) {
      // setUp failed before the server was built; nothing to wait for.
    }
    deleteSocketDir();
  }

  private void deleteSocketDir() {
    if (socketDir == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(socketDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public String toString() {
    return "bridge " + scheme + (extraOptions.isEmpty() ? "" : " " + extraOptions);
  }
}
