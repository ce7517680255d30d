package io.lpcbridge.bench;

import io.lpcbridge.transport.TransportProvider;
import java.util.List;
import java.util.Map;

/**
 * {@link SpawnedPeers} for every transport whose client starts a child command ({@code pipe:},
 * {@code socketpair:}): the transport itself says what its child serves on ({@code
 * TransportProvider.childServeTarget}) and how a client target launches a command ({@code
 * spawnTarget}).
 */
public final class ChildProcessPeers implements SpawnedPeers {
  @Override
  public boolean supports(TransportProvider provider) {
    return provider.childServeTarget().isPresent();
  }

  @Override
  public String childTarget(TransportProvider provider) {
    return provider.childServeTarget().orElseThrow().toString();
  }

  @Override
  public ClientTarget clientTarget(TransportProvider provider, List<String> peerCommand) {
    return new ClientTarget(provider.spawnTarget(peerCommand).toString(), Map.of());
  }
}
