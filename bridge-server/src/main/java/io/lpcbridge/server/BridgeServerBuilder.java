package io.lpcbridge.server;

import io.grpc.BindableService;
import io.grpc.CompressorRegistry;
import io.grpc.DecompressorRegistry;
import io.grpc.HandlerRegistry;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.lpcbridge.core.SessionOptions;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Builds a {@link BridgeServer} that serves the same services on several targets at once:
 *
 * <pre>{@code
 * Server server = BridgeServerBuilder.forTargets("unix:///run/kv.sock", "tcp://0.0.0.0:7000", "grpc://0.0.0.0:7001")
 *     .addService(new KeyValueService())
 *     .build()
 *     .start();
 * }</pre>
 *
 * {@code grpc://} and {@code grpc+unix://} targets are served by stock grpc-netty with the same
 * services, interceptors and executor, so any gRPC client can call them.
 */
public final class BridgeServerBuilder extends ServerBuilder<BridgeServerBuilder> {
  record Endpoint(Target target, TransportOptions options) {}

  final List<Endpoint> endpoints = new ArrayList<>();
  final List<ServerServiceDefinition> services = new ArrayList<>();
  final List<ServerInterceptor> interceptors = new ArrayList<>();
  final List<ServerStreamTracer.Factory> tracerFactories = new ArrayList<>();
  HandlerRegistry fallback;
  Executor executor;
  boolean directExecutor;
  SessionOptions sessionOptions = SessionOptions.defaults();
  Map<String, String> commonOptions = new LinkedHashMap<>();
  Duration handshakeTimeout = Duration.ofSeconds(10);

  private BridgeServerBuilder() {}

  /** A builder with no targets yet; add them with {@link #listen}. */
  public static BridgeServerBuilder create() {
    return new BridgeServerBuilder();
  }

  public static BridgeServerBuilder forTargets(String... targets) {
    BridgeServerBuilder b = new BridgeServerBuilder();
    for (String t : targets) {
      b.listen(t);
    }
    return b;
  }

  /** Adds a target to serve on, with the builder's common transport options. */
  public BridgeServerBuilder listen(String target) {
    return listen(Target.parse(target), Map.of());
  }

  /** Adds a target with options of its own, laid over the common ones. */
  public BridgeServerBuilder listen(Target target, Map<String, String> options) {
    endpoints.add(new Endpoint(target, TransportOptions.of(options)));
    return this;
  }

  /** A transport option for every target (a target's own options win). */
  public BridgeServerBuilder transportOption(String key, Object value) {
    commonOptions.put(key, String.valueOf(value));
    return this;
  }

  @Override
  public BridgeServerBuilder directExecutor() {
    this.directExecutor = true;
    this.executor = null;
    return this;
  }

  /**
   * Runs call callbacks on {@code executor}. Without one, they run on the transport's reader
   * thread that read them, where the transport has one (shm and the local IPC family), with a
   * watchdog replacing a reader thread stuck in a handler (waiting, or computing, for over a
   * millisecond); elsewhere on a
   * shared cached thread pool (see {@code ReaderExecutor} and docs/wire-protocol.md §8).
   */
  @Override
  public BridgeServerBuilder executor(Executor executor) {
    this.executor = executor;
    this.directExecutor = false;
    return this;
  }

  @Override
  public BridgeServerBuilder addService(ServerServiceDefinition service) {
    services.add(service);
    return this;
  }

  @Override
  public BridgeServerBuilder addService(BindableService bindableService) {
    return addService(bindableService.bindService());
  }

  @Override
  public BridgeServerBuilder intercept(ServerInterceptor interceptor) {
    interceptors.add(interceptor);
    return this;
  }

  /** Tracers see every call's events, on every target (census and OpenTelemetry use this). */
  @Override
  public BridgeServerBuilder addStreamTracerFactory(ServerStreamTracer.Factory factory) {
    tracerFactories.add(factory);
    return this;
  }

  /**
   * Forwards every call for a method this server does not host to {@code upstream}, byte for byte
   * ({@link ForwardingRegistry}). Replaces any fallback registry set before.
   */
  public BridgeServerBuilder forwardTo(io.grpc.Channel upstream) {
    return fallbackHandlerRegistry(ForwardingRegistry.to(upstream));
  }

  @Override
  public BridgeServerBuilder fallbackHandlerRegistry(HandlerRegistry fallbackRegistry) {
    this.fallback = fallbackRegistry;
    return this;
  }

  /** TLS is for the grpc targets of a later version; the bridge's own transports are local or trusted. */
  @Override
  public BridgeServerBuilder useTransportSecurity(File certChain, File privateKey) {
    throw new UnsupportedOperationException("TLS is not supported by the bridge yet");
  }

  /** The bridge does not compress; accepted and ignored. */
  @Override
  public BridgeServerBuilder decompressorRegistry(DecompressorRegistry registry) {
    return this;
  }

  /** The bridge does not compress; accepted and ignored. */
  @Override
  public BridgeServerBuilder compressorRegistry(CompressorRegistry registry) {
    return this;
  }

  @Override
  public BridgeServerBuilder maxInboundMessageSize(int bytes) {
    sessionOptions = sessionOptions.withMaxInboundMessageSize(bytes);
    return this;
  }

  /** Per-call flow-control window in bytes (default 1 MiB). */
  public BridgeServerBuilder flowControlWindow(int bytes) {
    sessionOptions = sessionOptions.withInitialWindow(bytes);
    return this;
  }

  @Override
  public BridgeServerBuilder handshakeTimeout(long timeout, TimeUnit unit) {
    sessionOptions = sessionOptions.withHandshakeTimeout(Duration.ofNanos(unit.toNanos(timeout)));
    return this;
  }

  @Override
  public BridgeServer build() {
    if (endpoints.isEmpty()) {
      throw new IllegalStateException("no targets to serve on: call listen(target)");
    }
    return new BridgeServer(this);
  }
}
