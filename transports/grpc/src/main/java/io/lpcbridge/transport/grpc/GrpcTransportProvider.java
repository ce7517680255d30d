package io.lpcbridge.transport.grpc;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;

/**
 * {@code grpc://host:port} and {@code grpc+unix:///path}: stock gRPC over HTTP/2
 * (grpc-netty-shaded).
 *
 * <p>The bridge serves and dials these targets natively, with {@link GrpcTargets}. The {@link
 * Connection} this provider offers is a tunnel — one bidirectional call of {@code
 * lpcbridge.tunnel.Tunnel/Open} per connection, each gRPC message one transport message — kept so
 * the conformance suite and the benchmarks have real gRPC as their reference.
 *
 * <p>Options beyond the common ones: see {@link GrpcTargets}. The provider is available wherever
 * Java is; {@code grpc+unix} additionally needs epoll, and a target of that scheme fails with
 * {@link io.lpcbridge.transport.TransportUnavailableException} where epoll did not load (the
 * description says so).
 */
public final class GrpcTransportProvider implements TransportProvider {
  private static final Set<Capability> TCP_CAPABILITIES = Set.of(Capability.NATIVE_RPC, Capability.CROSS_HOST);
  private static final Set<Capability> UNIX_CAPABILITIES = Set.of(Capability.NATIVE_RPC);

  @Override
  public String name() {
    return "grpc";
  }

  @Override
  public Set<String> schemes() {
    return Set.of(GrpcTargets.TCP_SCHEME, GrpcTargets.UNIX_SCHEME);
  }

  @Override
  public String description() {
    String version = io.grpc.ManagedChannel.class.getPackage().getImplementationVersion();
    return "gRPC over HTTP/2, grpc-netty-shaded" + (version == null ? "" : " " + version)
        + (GrpcTargets.isUnixAvailable()
            ? "; grpc+unix over epoll"
            : "; grpc+unix unavailable: " + GrpcTargets.unixUnavailabilityCause().map(Throwable::getMessage).orElse("?"));
  }

  /** The union over both schemes; a connection reports its own (no CROSS_HOST over grpc+unix). */
  @Override
  public Set<Capability> capabilities() {
    return TCP_CAPABILITIES;
  }

  @Override
  public Set<String> supportedOptions() {
    return GrpcTargets.OPTIONS;
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return Optional.empty();
  }

  @Override
  public java.util.List<Target> loopbackTargets(java.nio.file.Path scratchDir) {
    java.util.List<Target> targets = new java.util.ArrayList<>();
    targets.add(Target.parse("grpc://127.0.0.1:0"));
    if (GrpcTargets.isUnixAvailable()) {
      targets.add(Target.parse("grpc+unix://" + scratchDir.toAbsolutePath().resolve("grpc.sock")));
    }
    return targets;
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    return GrpcListener.bind(target, options, capabilitiesOf(target));
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    return ClientTunnel.connect(target, options, capabilitiesOf(target));
  }

  private static Set<Capability> capabilitiesOf(Target target) {
    return GrpcTargets.isUnix(target) ? UNIX_CAPABILITIES : TCP_CAPABILITIES;
  }

  @Override
  public String toString() {
    return "GrpcTransportProvider[" + description() + "]";
  }
}
