package io.lpcbridge.transport.socketpair;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.Spawn;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.FdConnections;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The parent's side: starting the worker with its end of a socketpair on descriptor 3. */
final class SocketpairLauncher {
  /**
   * The worker's descriptor for its end. Not 0: stdin stays free of the channel, so nothing in the
   * worker reads it by accident; 3 is also where systemd socket activation puts a socket.
   */
  static final int CHILD_FD = 3;
  /** The environment variable that tells the worker which descriptor holds its socket. */
  static final String FD_ENV = "LPCBRIDGE_SOCKETPAIR_FD";

  private SocketpairLauncher() {}

  static Connection launch(List<String> command, Target target, TransportOptions options) throws IOException {
    int[] pair = Fds.socketPair();
    Spawn.Child child;
    int devNull = -1;
    int stderr = 2;
    try {
      devNull = Fds.open(Path.of("/dev/null"), Fds.O_RDONLY, 0);
      stderr = ChildConnections.openChildStderr(options.get(ChildConnections.CHILD_STDERR_OPTION, null));
      Map<String, String> env = new HashMap<>(System.getenv());
      env.put(FD_ENV, Integer.toString(CHILD_FD));
      child = Spawn.spawn(new Spawn.Request(command, env, Map.of(0, devNull, 1, stderr, 2, stderr, CHILD_FD, pair[1])));
    } catch (IOException e) {
      Fds.closeQuietly(pair[0]);
      throw new IOException("cannot connect to " + target + ": " + e.getMessage(), e);
    } finally {
      // close(2), not shutdown(2): the worker's copy must stay fully open.
      Fds.closeQuietly(pair[1]);
      Fds.closeQuietly(devNull);
      if (stderr != 2) {
        Fds.closeQuietly(stderr);
      }
    }
    try {
      ChildConnections.awaitPreamble(pair[0], child, options.connectTimeout(), target.toString());
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(pair[0]);
      throw e;
    }
    Connection c =
        FdConnections.create(
            pair[0], pair[0], options, SocketpairTransportProvider.NAME, "pid " + ProcessHandle.current().pid(),
            "socketpair worker " + child, Set.of(Capability.SPAWNS_PEER, Capability.INLINE_RECEIVE));
    return ChildConnections.spawned(c, child, options.linger());
  }

  /** One socketpair between two connections of this process: {@code [client, server]}. */
  static Connection[] inProcessPair(Target target, TransportOptions options) throws IOException {
    int[] s = Fds.socketPair();
    Set<Capability> caps = Set.of(Capability.SPAWNS_PEER, Capability.INLINE_RECEIVE);
    Connection client;
    try {
      client = FdConnections.create(s[0], s[0], options, SocketpairTransportProvider.NAME, "client of " + target, target.toString(), caps);
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(s[1]);
      throw e;
    }
    Connection server = FdConnections.create(s[1], s[1], options, SocketpairTransportProvider.NAME, target.toString(), "client in this process", caps);
    return new Connection[] {client, server};
  }
}
