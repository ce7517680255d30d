package io.lpcbridge.client;

import io.grpc.ClientInterceptor;
import io.grpc.CompressorRegistry;
import io.grpc.DecompressorRegistry;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.NameResolver;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.lpcbridge.core.SessionOptions;
import io.lpcbridge.core.SharedResources;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import io.lpcbridge.transport.Transports;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Builds a channel to a bridge target, as {@code ManagedChannelBuilder.forTarget} builds one to a
 * gRPC target:
 *
 * <pre>{@code
 * ManagedChannel ch = BridgeChannelBuilder.forTarget("unix:///run/kv.sock").build();
 * KeyValueGrpc.KeyValueBlockingStub kv = KeyValueGrpc.newBlockingStub(ch);
 * }</pre>
 *
 * The target's scheme picks the transport ({@code tcp}, {@code unix}, ... see {@code bridge
 * transports}). For {@code grpc://} and {@code grpc+unix://} the result is a stock grpc-netty
 * channel with the same executor and interceptors, so a bridge client can call any gRPC server.
 */
public final class BridgeChannelBuilder extends ManagedChannelBuilder<BridgeChannelBuilder> {
  private final List<Target> targets;
  private BalancingChannel.Policy policy = BalancingChannel.Policy.PICK_FIRST;
  private BalancingChannel.HealthCheck healthCheck;
  private TransportOptions transportOptions = TransportOptions.defaults();
  private SessionOptions sessionOptions = SessionOptions.defaults();
  private Executor executor;
  private final List<ClientInterceptor> interceptors = new ArrayList<>();
  private String authority;
  private String userAgent;
  private ClientTransportManager.Backoff backoff =
      new ClientTransportManager.Backoff(Duration.ofSeconds(1), Duration.ofSeconds(120));
  /** gRPC's defaults: idle after 30 minutes, at least 1 second, never from 30 days on. */
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(30);
  static final Duration MIN_IDLE_TIMEOUT = Duration.ofSeconds(1);
  static final long IDLE_DISABLED_DAYS = 30;
  /** Zero: never idle. */
  private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;

  private BridgeChannelBuilder(List<Target> targets) {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no target given");
    }
    this.targets = List.copyOf(targets);
  }

  /**
   * @throws IllegalArgumentException when the target is malformed
   */
  public static BridgeChannelBuilder forTarget(String target) {
    return new BridgeChannelBuilder(List.of(Target.parse(target)));
  }

  public static BridgeChannelBuilder forTarget(Target target) {
    return new BridgeChannelBuilder(List.of(target));
  }

  /**
   * A channel over several hosts serving the same services, each over its own transport, balanced
   * by {@link #defaultLoadBalancingPolicy} (pick_first unless set) and optionally health-checked
   * ({@link #healthCheck}). With one target this is {@link #forTarget}.
   */
  public static BridgeChannelBuilder forTargets(List<Target> targets) {
    return new BridgeChannelBuilder(targets);
  }

  public static BridgeChannelBuilder forTargets(String... targets) {
    return new BridgeChannelBuilder(Arrays.stream(targets).map(Target::parse).toList());
  }

  /**
   * A builder for the client named {@code name} in the configuration ({@link BridgeConfig#load()}):
   * the program names what it calls, the configuration says over which transport.
   */
  public static BridgeChannelBuilder forClient(String name) {
    return BridgeConfig.load().channelBuilder(name);
  }

  /** The first (or only) target. */
  public Target target() {
    return targets.getFirst();
  }

  public List<Target> targets() {
    return targets;
  }

  /** {@code pick_first} (the default) or {@code round_robin}, over the targets of {@link #forTargets}. */
  @Override
  public BridgeChannelBuilder defaultLoadBalancingPolicy(String policy) {
    this.policy = BalancingChannel.Policy.parse(policy);
    return this;
  }

  /**
   * Polls each target's {@code grpc.health.v1.Health/Check} for {@code service} ("" for the whole
   * server) every {@code interval}, and sends calls only to targets that say SERVING. Applies to
   * {@link #forTargets} channels.
   */
  public BridgeChannelBuilder healthCheck(String service, Duration interval) {
    this.healthCheck = new BalancingChannel.HealthCheck(service, interval);
    return this;
  }

  /** Sets a transport option, e.g. {@code maxMessageSize} or {@code connectTimeout}. */
  public BridgeChannelBuilder transportOption(String key, Object value) {
    transportOptions = transportOptions.with(key, value);
    return this;
  }

  public BridgeChannelBuilder transportOptions(Map<String, String> options) {
    transportOptions = transportOptions.withAll(options);
    return this;
  }

  @Override
  public BridgeChannelBuilder directExecutor() {
    this.executor = Runnable::run;
    return this;
  }

  /**
   * Runs call callbacks (a stub's StreamObserver, a ClientCall.Listener) on {@code executor}.
   * Without one, they run on the transport's reader thread that read the answer, where the
   * transport has one (shm and the local IPC family), with the watchdog that replaces a reader
   * thread stuck in a callback (waiting, or computing, for over a millisecond); elsewhere, and for
   * {@code grpc} targets, on a shared cached thread pool (see {@code ReaderExecutor} and
   * docs/wire-protocol.md §8). The blocking stub is unaffected: its caller receives the answer.
   */
  @Override
  public BridgeChannelBuilder executor(Executor executor) {
    this.executor = executor;
    return this;
  }

  @Override
  public BridgeChannelBuilder intercept(List<ClientInterceptor> interceptors) {
    this.interceptors.addAll(interceptors);
    return this;
  }

  @Override
  public BridgeChannelBuilder intercept(ClientInterceptor... interceptors) {
    return intercept(Arrays.asList(interceptors));
  }

  @Override
  public BridgeChannelBuilder userAgent(String userAgent) {
    this.userAgent = userAgent;
    return this;
  }

  @Override
  public BridgeChannelBuilder overrideAuthority(String authority) {
    this.authority = authority;
    return this;
  }

  /** Plaintext is the only mode of the bridge's own transports; accepted for drop-in use. */
  @Override
  public BridgeChannelBuilder usePlaintext() {
    return this;
  }

  /** Name resolution does not apply: a bridge target names one endpoint. */
  @Override
  @Deprecated
  public BridgeChannelBuilder nameResolverFactory(NameResolver.Factory resolverFactory) {
    throw new UnsupportedOperationException("a bridge target names its endpoint directly; there is no name resolver");
  }

  /** The bridge does not compress (local transports gain nothing from it); accepted and ignored. */
  @Override
  public BridgeChannelBuilder decompressorRegistry(DecompressorRegistry registry) {
    return this;
  }

  /** The bridge does not compress; accepted and ignored. */
  @Override
  public BridgeChannelBuilder compressorRegistry(CompressorRegistry registry) {
    return this;
  }

  /**
   * As gRPC's: after this long with no call in flight the channel closes its connection and goes
   * IDLE; the next call connects again. Default 30 minutes; at least 1 second (shorter values are
   * raised to it); 30 days or more disables idle mode.
   */
  @Override
  public BridgeChannelBuilder idleTimeout(long value, TimeUnit unit) {
    if (value <= 0) {
      throw new IllegalArgumentException("idle timeout is " + value + " " + unit + ", must be positive");
    }
    idleTimeout = unit.toDays(value) >= IDLE_DISABLED_DAYS
        ? Duration.ZERO
        : Duration.ofNanos(Math.max(unit.toNanos(value), MIN_IDLE_TIMEOUT.toNanos()));
    return this;
  }

  @Override
  public BridgeChannelBuilder maxInboundMessageSize(int bytes) {
    sessionOptions = sessionOptions.withMaxInboundMessageSize(bytes);
    return this;
  }

  /** Per-call flow-control window in bytes (default 1 MiB), as NettyChannelBuilder's. */
  public BridgeChannelBuilder flowControlWindow(int bytes) {
    sessionOptions = sessionOptions.withInitialWindow(bytes);
    return this;
  }

  @Override
  public BridgeChannelBuilder keepAliveTime(long time, TimeUnit unit) {
    sessionOptions = sessionOptions.withKeepAlive(Duration.ofNanos(unit.toNanos(time)), sessionOptions.keepAliveTimeout());
    return this;
  }

  @Override
  public BridgeChannelBuilder keepAliveTimeout(long time, TimeUnit unit) {
    sessionOptions = sessionOptions.withKeepAlive(sessionOptions.keepAliveTime(), Duration.ofNanos(unit.toNanos(time)));
    return this;
  }

  /** First and longest wait between reconnection attempts (defaults 1 s and 120 s, as gRPC's). */
  public BridgeChannelBuilder reconnectBackoff(Duration initial, Duration max) {
    this.backoff = new ClientTransportManager.Backoff(initial, max);
    return this;
  }

  /**
   * @throws IllegalArgumentException when the target's transport is unknown or unavailable, or an
   *     option is malformed
   */
  @Override
  public ManagedChannel build() {
    if (targets.size() == 1 && healthCheck == null) {
      return build(targets.getFirst());
    }
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      for (Target t : targets) {
        channels.add(build(t));
      }
    } catch (RuntimeException e) {
      channels.forEach(ManagedChannel::shutdownNow);
      throw e;
    }
    return new BalancingChannel(targets, channels, policy, healthCheck);
  }

  private ManagedChannel build(Target target) {
    TransportProvider provider;
    try {
      provider = Transports.forTarget(target);
    } catch (TransportUnavailableException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    transportOptions.checkKnown(provider.name(), provider.supportedOptions());
    if (provider.capabilities().contains(Capability.NATIVE_RPC)) {
      return buildNativeGrpc(target, executor != null ? executor : SharedResources.defaultExecutor());
    }
    // Callbacks run where the answer was read, as the server's handlers do (see executor()).
    Executor exec = executor != null ? executor : SharedResources.callbackExecutor();
    String auth = authority != null ? authority : target.authority();
    List<ClientInterceptor> all = new ArrayList<>(interceptors);
    if (userAgent != null) {
      all.add(UserAgentInterceptor.of(userAgent));
    }
    ClientTransportManager manager = new ClientTransportManager(target, provider, transportOptions, sessionOptions, backoff, idleTimeout);
    return new BridgeChannel(manager, exec, auth, all);
  }

  private ManagedChannel buildNativeGrpc(Target target, Executor exec) {
    NettyChannelBuilder b = GrpcNative.channelBuilder(target, transportOptions);
    b.executor(exec).intercept(interceptors).maxInboundMessageSize(sessionOptions.maxInboundMessageSize());
    if (userAgent != null) {
      b.userAgent(userAgent);
    }
    if (authority != null) {
      b.overrideAuthority(authority);
    }
    if (!sessionOptions.keepAliveTime().isZero()) {
      b.keepAliveTime(sessionOptions.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
          .keepAliveTimeout(sessionOptions.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }
    b.flowControlWindow(sessionOptions.initialWindow());
    b.idleTimeout(idleTimeout.isZero() ? IDLE_DISABLED_DAYS : idleTimeout.toNanos(), idleTimeout.isZero() ? TimeUnit.DAYS : TimeUnit.NANOSECONDS);
    return b.build();
  }
}
