package io.lpcbridge.transport.grpc;

import io.grpc.Server;
import io.grpc.ServerCall;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.net.BindException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A started gRPC server serving only {@code Tunnel/Open}. gRPC binds and accepts in one step, so
 * until {@link #start} the calls that arrive are held (their connect completes, as a kernel
 * backlog would let a TCP connect complete) and handed over when it comes.
 */
final class GrpcListener implements Listener {
  private final int maxMessageSize;
  private final Set<Capability> capabilities;
  /** Guarded by {@code this}; the acceptor is also called under it, one connection at a time. */
  private Acceptor acceptor;
  /** Guarded by {@code this}: calls that came before start(). */
  private final List<ServerTunnel> held = new ArrayList<>();
  /** Guarded by {@code this}. */
  private boolean closed;
  private volatile Target localTarget;
  private final Server server;

  private GrpcListener(Target requested, TransportOptions options, Set<Capability> capabilities) throws IOException {
    this.maxMessageSize = options.maxMessageSize();
    this.capabilities = capabilities;
    this.localTarget = requested;
    // The service refers to this object; calls reaching it before the constructor ends are held
    // like any call before start().
    this.server =
        GrpcTargets.serverBuilder(requested, options).addService(Tunnel.service((call, headers) -> onCall(call))).build();
    try {
      server.start();
    } catch (IOException e) {
      BindException b = new BindException("grpc: cannot listen on " + requested + ": " + rootMessage(e));
      b.initCause(e);
      throw b;
    }
    this.localTarget = GrpcTargets.boundTarget(requested, server);
  }

  static GrpcListener bind(Target target, TransportOptions options, Set<Capability> capabilities) throws IOException {
    return new GrpcListener(target, options, capabilities);
  }

  private static String rootMessage(Throwable t) {
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  private ServerCall.Listener<byte[]> onCall(ServerCall<byte[], byte[]> call) {
    ServerTunnel tunnel = new ServerTunnel(call, maxMessageSize, capabilities);
    synchronized (this) {
      if (closed) {
        tunnel.refuse("the listener on " + localTarget + " is closed");
        return tunnel.events();
      }
      tunnel.accept();
      if (acceptor == null) {
        held.add(tunnel);
      } else {
        hand(tunnel);
      }
    }
    return tunnel.events();
  }

  /** Under {@code this}. */
  private void hand(ServerTunnel tunnel) {
    try {
      acceptor.onConnection(tunnel);
    } catch (RuntimeException e) {
      tunnel.close();
    }
  }

  @Override
  public Target localTarget() {
    return localTarget;
  }

  @Override
  public synchronized void start(Acceptor acceptor) {
    if (closed) {
      throw new IllegalStateException("listener on " + localTarget + " is closed");
    }
    if (this.acceptor != null) {
      throw new IllegalStateException("start() called twice on the listener on " + localTarget);
    }
    this.acceptor = acceptor;
    for (ServerTunnel t : held) {
      hand(t);
    }
    held.clear();
  }

  @Override
  public void close() {
    List<ServerTunnel> unclaimed;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      unclaimed = new ArrayList<>(held);
      held.clear();
    }
    // Stops accepting; calls already accepted run on. gRPC closes the listening socket (and
    // removes a Unix socket's file) asynchronously, and offers no public way to wait for just that;
    // a connect racing with it reaches a server that turns it away, so it fails all the same.
    server.shutdown();
    for (ServerTunnel t : unclaimed) {
      t.close();
    }
  }

  @Override
  public String toString() {
    return "grpc listener on " + localTarget;
  }
}
