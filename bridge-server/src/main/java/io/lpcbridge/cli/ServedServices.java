package io.lpcbridge.cli;

import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.lpcbridge.client.BridgeConfig;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.KeyValueService;
import io.lpcbridge.server.BridgeServer;
import io.lpcbridge.server.BridgeServerBuilder;
import io.lpcbridge.transport.Target;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What {@code bridge serve} hosts: the Echo and KeyValue demo services, the standard health
 * service and server reflection, on a {@link BridgeServer} bound to the given endpoints.
 */
final class ServedServices {
  private final BridgeServer server;
  private final HealthStatusManager health;
  private final io.grpc.ManagedChannel upstream;

  private ServedServices(BridgeServer server, HealthStatusManager health, io.grpc.ManagedChannel upstream) {
    this.server = server;
    this.health = health;
    this.upstream = upstream;
  }

  /**
   * Binds every endpoint and starts serving.
   *
   * @throws IOException when an endpoint cannot be bound (the message names it)
   * @throws IllegalArgumentException when a target or transport option is malformed or unknown
   */
  static ServedServices start(List<BridgeConfig.Endpoint> endpoints, boolean directExecutor) throws IOException {
    return start(endpoints, directExecutor, true, null);
  }

  /**
   * @param demo host the Echo and KeyValue demo services
   * @param forward where to forward calls for services not hosted here, or null
   */
  static ServedServices start(
      List<BridgeConfig.Endpoint> endpoints, boolean directExecutor, boolean demo, BridgeConfig.Forward forward)
      throws IOException {
    HealthStatusManager health = new HealthStatusManager();
    List<ServerServiceDefinition> services = new ArrayList<>();
    if (demo) {
      services.add(new EchoService().bindService());
      services.add(new KeyValueService().bindService());
    }
    services.add(health.getHealthService().bindService());
    ReflectionService reflection = new ReflectionService(services);
    services.add(reflection.bindService());

    BridgeServerBuilder b = BridgeServerBuilder.create();
    for (BridgeConfig.Endpoint e : endpoints) {
      b.listen(e.target(), e.options());
    }
    services.forEach(b::addService);
    if (directExecutor) {
      b.directExecutor();
    }
    io.grpc.ManagedChannel upstream = null;
    if (forward != null) {
      upstream = forward.channelBuilder().build();
      b.forwardTo(upstream);
    }
    BridgeServer server;
    try {
      server = b.build().start();
    } catch (IOException | RuntimeException e) {
      if (upstream != null) {
        upstream.shutdownNow();
      }
      throw e;
    }
    for (ServerServiceDefinition s : services) {
      health.setStatus(s.getServiceDescriptor().getName(), ServingStatus.SERVING);
    }
    return new ServedServices(server, health, upstream);
  }

  /** The forwarding upstream, for the startup banner. */
  java.util.Optional<String> forwarding() {
    return java.util.Optional.ofNullable(upstream).map(Object::toString);
  }

  /** The bound targets, ports and paths resolved, in the order given. */
  List<Target> targets() {
    return server.targets();
  }

  /**
   * Health turns NOT_SERVING, calls in progress get {@code grace} to finish, then the rest are
   * cancelled.
   *
   * @return whether every call finished within the grace period
   */
  boolean stop(Duration grace) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    boolean clean = server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    if (!clean) {
      server.shutdownNow();
      server.awaitTermination(2, TimeUnit.SECONDS);
    }
    if (upstream != null) {
      upstream.shutdownNow();
    }
    return clean;
  }

  /** Stops at once, cancelling calls in progress. */
  void stopNow() {
    server.shutdownNow();
    if (upstream != null) {
      upstream.shutdownNow();
    }
  }
}
