package io.lpcbridge.bench;

import io.lpcbridge.transport.TransportProvider;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@link SpawnedPeers} for the transports whose client starts a child command: {@code
 * pipe:<command line>} (the child serves {@code pipe:stdio}) and {@code socketpair:<command line>}
 * (the child serves {@code socketpair:inherited}). The command line is split as a POSIX shell
 * would, so each word is single-quoted here.
 */
public final class ChildProcessPeers implements SpawnedPeers {
  private static final Map<String, String> CHILD_SIDE = Map.of("pipe", "stdio", "socketpair", "inherited");

  @Override
  public boolean supports(TransportProvider provider) {
    return CHILD_SIDE.containsKey(provider.name()) && provider.schemes().contains(provider.name());
  }

  @Override
  public String childTarget(TransportProvider provider) {
    return provider.name() + ":" + CHILD_SIDE.get(provider.name());
  }

  @Override
  public ClientTarget clientTarget(TransportProvider provider, List<String> peerCommand) {
    return new ClientTarget(provider.name() + ":" + peerCommand.stream().map(ChildProcessPeers::quote).collect(Collectors.joining(" ")), Map.of());
  }

  static String quote(String word) {
    return "'" + word.replace("'", "'\\''") + "'";
  }
}
