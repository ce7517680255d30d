package io.lpcbridge.transport.pipe;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.nativeio.Spawn;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.FdConnections;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The parent's side: starting the child with pipes on its stdin and stdout. */
final class PipeLauncher {
  private PipeLauncher() {}

  static Connection launch(List<String> command, Target target, TransportOptions options) throws IOException {
    int[] toChild = Fds.pipe(0);
    int[] fromChild;
    try {
      fromChild = Fds.pipe(0);
    } catch (NativeException e) {
      Fds.closeQuietly(toChild[0]);
      Fds.closeQuietly(toChild[1]);
      throw e;
    }
    Spawn.Child child;
    int stderr = 2;
    try {
      stderr = ChildConnections.openChildStderr(options.get(ChildConnections.CHILD_STDERR_OPTION, null));
      child = Spawn.spawn(new Spawn.Request(command, null, Map.of(0, toChild[0], 1, fromChild[1], 2, stderr)));
    } catch (IOException e) {
      Fds.closeQuietly(toChild[1]);
      Fds.closeQuietly(fromChild[0]);
      throw new IOException("cannot connect to " + target + ": " + e.getMessage(), e);
    } finally {
      // The child has its own copies now; ours would hide its exit (no end of file).
      Fds.closeQuietly(toChild[0]);
      Fds.closeQuietly(fromChild[1]);
      if (stderr != 2) {
        Fds.closeQuietly(stderr);
      }
    }
    try {
      ChildConnections.awaitPreamble(fromChild[0], child, options.connectTimeout(), target.toString());
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(fromChild[0]);
      Fds.closeQuietly(toChild[1]);
      throw e;
    }
    Connection c =
        FdConnections.create(
            fromChild[0],
            toChild[1],
            options,
            PipeTransportProvider.NAME,
            "pid " + ProcessHandle.current().pid(),
            "pipe child " + child,
            Set.of(Capability.SPAWNS_PEER, Capability.INLINE_RECEIVE));
    return ChildConnections.spawned(c, child, options.linger());
  }

  /** Two pipes between two connections of this process: {@code [client, server]}. */
  static Connection[] inProcessPair(Target target, TransportOptions options) throws IOException {
    int[] up = Fds.pipe(0);
    int[] down = Fds.pipe(0);
    Set<Capability> caps = Set.of(Capability.SPAWNS_PEER, Capability.INLINE_RECEIVE);
    Connection client = FdConnections.create(down[0], up[1], options, PipeTransportProvider.NAME, "client of " + target, target.toString(), caps);
    Connection server = FdConnections.create(up[0], down[1], options, PipeTransportProvider.NAME, target.toString(), "client in this process", caps);
    return new Connection[] {client, server};
  }
}
