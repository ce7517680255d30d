package io.lpcbridge.bench;

import io.lpcbridge.transport.TransportProvider;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * How the benchmark reaches a transport whose client launches its own server ({@link
 * io.lpcbridge.transport.Capability#SPAWNS_PEER}: {@code socketpair:}, {@code pipe:}), which has no
 * loopback target to listen on. Implementations are found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.lpcbridge.bench.SpawnedPeers}); a transport no implementation
 * supports is listed as skipped, with the reason, in every report.
 *
 * <p>The benchmark hands over the command of the peer to launch: a {@link BenchServer} with {@code
 * --quiet} (its stdout may be the transport), its control socket, and one {@code --listen} whose
 * target is {@link #childTarget}; pinned with the placement's {@code taskset} prefix.
 */
public interface SpawnedPeers {

  /** Whether this implementation knows how to spawn a peer over {@code provider}. */
  boolean supports(TransportProvider provider);

  /**
   * The target the spawned {@link BenchServer} listens on (passed to {@code
   * TransportProvider.listen} in the child), e.g. {@code socketpair:} if the transport's listener in
   * the child picks up the inherited end.
   */
  String childTarget(TransportProvider provider);

  /**
   * The client's target and transport options that make {@code connect} launch {@code
   * peerCommand} as the peer.
   */
  ClientTarget clientTarget(TransportProvider provider, List<String> peerCommand);

  /** A target to connect to and its transport options. */
  record ClientTarget(String target, Map<String, String> options) {}

  /** The first implementation on the class path that supports {@code provider}. */
  static Optional<SpawnedPeers> find(TransportProvider provider) {
    for (SpawnedPeers p : java.util.ServiceLoader.load(SpawnedPeers.class, SpawnedPeers.class.getClassLoader())) {
      if (p.supports(provider)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
