package io.lpcbridge.server;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.lpcbridge.core.CallStart;
import io.lpcbridge.core.SerializingExecutor;
import io.lpcbridge.core.SessionListener;
import io.lpcbridge.core.SharedResources;
import io.lpcbridge.core.StreamListener;
import io.lpcbridge.core.TargetAddress;
import io.lpcbridge.core.WireSession;
import io.lpcbridge.core.WireStream;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * An {@link io.grpc.Server} that serves its services on every target it was built with: the
 * bridge wire protocol on the SPI transports, and stock gRPC on {@code grpc://} targets.
 *
 * <p>Each accepted connection becomes a server {@link WireSession}; each call on it is dispatched
 * by method name to the registered handlers (with the server's interceptors), or to the fallback
 * registry. A call for an unknown method ends at once with UNIMPLEMENTED; a malformed request ends
 * its call with INTERNAL; a peer that breaks the protocol loses its connection. None of these
 * disturbs other calls or connections.
 */
public final class BridgeServer extends Server {
  /** The peer's credentials, on the server call's attributes, where the transport knows them. */
  public static final Attributes.Key<PeerCredentials> PEER_CREDENTIALS = Attributes.Key.create("bridge-peer-credentials");

  /** The transport that carried the call ({@code tcp}, {@code unix}...), on the call's attributes. */
  public static final Attributes.Key<String> TRANSPORT = Attributes.Key.create("bridge-transport");

  private final BridgeServerBuilder config;
  private final Map<String, ServerMethodDefinition<?, ?>> methods = new HashMap<>();
  private final List<ServerServiceDefinition> services;
  private final HandlerRegistry fallback;
  private final Executor executor;

  private final Object lock = new Object();
  // Guarded by lock.
  private boolean started;
  private boolean shutdown;
  private final List<Listener> listeners = new ArrayList<>();
  private final List<Server> grpcServers = new ArrayList<>();
  private final List<Target> boundTargets = new ArrayList<>();
  private final Set<WireSession> sessions = new HashSet<>();
  private final CountDownLatch terminated = new CountDownLatch(1);

  BridgeServer(BridgeServerBuilder b) {
    this.config = b;
    List<ServerServiceDefinition> intercepted = new ArrayList<>();
    for (ServerServiceDefinition s : b.services) {
      ServerServiceDefinition def = ServerInterceptors.intercept(s, b.interceptors);
      intercepted.add(def);
      for (ServerMethodDefinition<?, ?> m : def.getMethods()) {
        String name = m.getMethodDescriptor().getFullMethodName();
        if (methods.putIfAbsent(name, m) != null) {
          throw new IllegalArgumentException("method " + name + " is registered twice");
        }
      }
    }
    this.services = List.copyOf(intercepted);
    this.fallback = b.fallback;
    this.executor = b.directExecutor ? Runnable::run : b.executor != null ? b.executor : SharedResources.callbackExecutor();
  }

  @Override
  public BridgeServer start() throws IOException {
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("already started");
      }
      if (shutdown) {
        throw new IllegalStateException("shut down");
      }
      started = true;
      try {
        for (BridgeServerBuilder.Endpoint e : config.endpoints) {
          TransportOptions options = TransportOptions.of(config.commonOptions).withAll(e.options().asMap());
          TransportProvider provider = Transports.forTarget(e.target());
          options.checkKnown(provider.name(), provider.supportedOptions());
          if (provider.capabilities().contains(Capability.NATIVE_RPC)) {
            startGrpc(e.target(), options);
          } else {
            Listener l = provider.listen(e.target(), options);
            listeners.add(l);
            boundTargets.add(l.localTarget());
            String transportName = provider.name();
            l.start(connection -> accept(connection, transportName));
          }
        }
      } catch (IOException | RuntimeException ex) {
        closeListeners();
        for (Server s : grpcServers) {
          s.shutdownNow();
        }
        throw ex;
      }
    }
    return this;
  }

  private void startGrpc(Target target, TransportOptions options) throws IOException {
    NettyServerBuilder nb = GrpcNative.serverBuilder(target, options);
    for (ServerServiceDefinition s : config.services) {
      nb.addService(s);
    }
    for (var i : config.interceptors) {
      nb.intercept(i);
    }
    for (var f : config.tracerFactories) {
      nb.addStreamTracerFactory(f);
    }
    if (fallback != null) {
      nb.fallbackHandlerRegistry(fallback);
    }
    if (config.directExecutor) {
      nb.directExecutor();
    } else {
      nb.executor(executor);
    }
    nb.maxInboundMessageSize(config.sessionOptions.maxInboundMessageSize());
    nb.flowControlWindow(config.sessionOptions.initialWindow());
    Server s = nb.build().start();
    grpcServers.add(s);
    boundTargets.add(GrpcNative.boundTarget(target, s));
  }

  private void accept(Connection connection, String transportName) {
    WireSession session;
    synchronized (lock) {
      if (shutdown) {
        connection.close();
        return;
      }
      Attributes.Builder attrs =
          Attributes.newBuilder()
              .set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, new TargetAddress(connection.remoteAddress()))
              .set(Grpc.TRANSPORT_ATTR_LOCAL_ADDR, new TargetAddress(connection.localAddress()))
              .set(TRANSPORT, transportName);
      connection.peerCredentials().ifPresent(c -> attrs.set(PEER_CREDENTIALS, c));
      session =
          WireSession.server(connection, config.sessionOptions, new Sessions(attrs.build()), SharedResources.timer());
      sessions.add(session);
    }
    session.start();
  }

  /** Dispatches the calls of one connection. */
  private final class Sessions implements SessionListener {
    private final Attributes attributes;

    Sessions(Attributes attributes) {
      this.attributes = attributes;
    }

    @Override
    public StreamListener onCallStart(WireStream stream, CallStart start) {
      ServerTracers tracers = ServerTracers.create(config.tracerFactories, start.method(), start.headers());
      ServerMethodDefinition<?, ?> def = methods.get(start.method());
      if (def == null && fallback != null) {
        def = fallback.lookupMethod(start.method(), start.authority());
      }
      if (def == null) {
        Status status = Status.UNIMPLEMENTED.withDescription("Method not found: " + start.method());
        // Tracers see every call, found or not, as with grpc-java's server.
        tracers.filterContext(Context.ROOT);
        stream.sendTrailers(status, new Metadata());
        tracers.closed(status);
        return Rejected.INSTANCE;
      }
      return startCall(def, stream, start, attributes, tracers);
    }

    @Override
    public void onClosed(WireSession session, Status status) {
      synchronized (lock) {
        sessions.remove(session);
        maybeTerminated();
      }
    }
  }

  private <ReqT, RespT> StreamListener startCall(
      ServerMethodDefinition<ReqT, RespT> def, WireStream stream, CallStart start, Attributes attributes, ServerTracers tracers) {
    Context base = tracers.filterContext(Context.ROOT);
    Context.CancellableContext context =
        start.timeoutNanos() == CallStart.NO_TIMEOUT
            ? base.withCancellation()
            : base.withDeadlineAfter(start.timeoutNanos(), TimeUnit.NANOSECONDS, SharedResources.timer());
    tracers.callStarted(def.getMethodDescriptor(), attributes, start.authority());
    BridgeServerCall<ReqT, RespT> call =
        new BridgeServerCall<>(
            stream,
            def.getMethodDescriptor(),
            context,
            new SerializingExecutor(executor),
            executor,
            start.authority(),
            attributes,
            tracers);
    if (context.getDeadline() != null) {
      context.addListener(
          ctx -> {
            if (ctx.getDeadline() != null && ctx.getDeadline().isExpired()) {
              call.deadlineExceeded();
            }
          },
          Runnable::run);
    }
    call.start(def.getServerCallHandler(), start.headers());
    return call;
  }

  /** The listener of a call refused at start: it has already ended. */
  private enum Rejected implements StreamListener {
    INSTANCE;

    @Override
    public void onMessage(ByteBuffer message) {}

    @Override
    public void onReset(Status status) {}
  }

  // ------------------------------------------------------------------------------------------
  // Server

  /** The targets this server is bound to, with ports and paths resolved, in the order given. */
  public List<Target> targets() {
    synchronized (lock) {
      return List.copyOf(boundTargets);
    }
  }

  /** The port of the first target that has one (tcp, udp, grpc), or -1. */
  @Override
  public int getPort() {
    for (Target t : targets()) {
      if (t.schemeSpecificPart().startsWith("//")) {
        try {
          return t.hostPort(-1).port();
        } catch (IllegalArgumentException ignored) {
          // Not host:port shaped (e.g. shm://name).
        }
      }
    }
    return -1;
  }

  @Override
  public List<? extends SocketAddress> getListenSockets() {
    List<SocketAddress> out = new ArrayList<>();
    for (Target t : targets()) {
      out.add(new TargetAddress(t.toString()));
    }
    return out;
  }

  @Override
  public List<ServerServiceDefinition> getServices() {
    return services;
  }

  @Override
  public List<ServerServiceDefinition> getImmutableServices() {
    return services;
  }

  /**
   * Graceful: stops accepting connections, sends GOAWAY on every connection so no new calls start,
   * and lets calls in progress finish.
   */
  @Override
  public BridgeServer shutdown() {
    List<WireSession> toDrain;
    synchronized (lock) {
      if (shutdown) {
        return this;
      }
      shutdown = true;
      closeListeners();
      for (Server s : grpcServers) {
        s.shutdown();
      }
      toDrain = new ArrayList<>(sessions);
    }
    for (WireSession s : toDrain) {
      s.shutdown();
    }
    watchGrpcTermination();
    synchronized (lock) {
      maybeTerminated();
    }
    return this;
  }

  /** Abrupt: as {@link #shutdown()}, and every call in progress is cancelled with UNAVAILABLE. */
  @Override
  public BridgeServer shutdownNow() {
    shutdown();
    List<WireSession> toKill;
    synchronized (lock) {
      for (Server s : grpcServers) {
        s.shutdownNow();
      }
      toKill = new ArrayList<>(sessions);
    }
    Status status = Status.UNAVAILABLE.withDescription("server shutdownNow invoked");
    for (WireSession s : toKill) {
      s.shutdownNow(status);
    }
    return this;
  }

  private void closeListeners() {
    for (Listener l : listeners) {
      l.close();
    }
  }

  private void watchGrpcTermination() {
    List<Server> grpc;
    synchronized (lock) {
      grpc = List.copyOf(grpcServers);
    }
    if (grpc.isEmpty()) {
      return;
    }
    SharedResources.blockingExecutor()
        .execute(
            () -> {
              try {
                for (Server s : grpc) {
                  s.awaitTermination();
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
              }
              synchronized (lock) {
                grpcServers.clear();
                maybeTerminated();
              }
            });
  }

  private void maybeTerminated() {
    if (shutdown && sessions.isEmpty() && grpcServers.stream().allMatch(Server::isTerminated)) {
      terminated.countDown();
    }
  }

  @Override
  public boolean isShutdown() {
    synchronized (lock) {
      return shutdown;
    }
  }

  @Override
  public boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  @Override
  public void awaitTermination() throws InterruptedException {
    terminated.await();
  }

  @Override
  public String toString() {
    return "BridgeServer" + targets();
  }

}
