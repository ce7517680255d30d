package io.lpcbridge.transport.socketpair;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.ChildProcessTransportProvider;
import io.lpcbridge.transport.channel.InProcessEndpoints;
import java.io.IOException;
import java.util.List;
import java.util.Set;

/**
 * {@code socketpair:}: the worker model. The parent launches a child command and talks to it over
 * one end of a {@code socketpair(AF_UNIX, SOCK_STREAM)}; the other end is the child's descriptor 3
 * at launch (its stdin is /dev/null, its stdout and stderr are the parent's stderr).
 *
 * <h2>Targets</h2>
 *
 * <ul>
 *   <li>{@code socketpair:<command line>} (or {@code socketpair:} with the option {@code
 *       command}), to connect: starts the command and waits for it to serve. Every connect starts
 *       a new worker, so reconnecting after a worker died restarts it.
 *   <li>{@code socketpair:inherited}, to listen, in the child: serves the one connection on the
 *       socket its parent put on descriptor {@value SocketpairLauncher#CHILD_FD} (named by the
 *       environment variable {@value SocketpairLauncher#FD_ENV}). With {@code exitWithParent}
 *       (default true) the process exits once that connection closes.
 *   <li>{@code socketpair:@name}: two components of one process, over a socketpair.
 * </ul>
 *
 * A worker's death closes its end of the socket, so the parent's reader sees end of file at once;
 * the parent's {@code onClosed} then names how the worker ended. See docs/local-ipc.md.
 *
 * <h2>Options</h2>
 *
 * {@code command} (the parent's command line, for a bare {@code socketpair:}), {@code childStderr}
 * ({@code inherit}, {@code discard} or a file, for the worker's stdout and stderr; see {@link
 * ChildConnections#CHILD_STDERR_OPTION}), {@code exitWithParent} (the worker's side; default true).
 */
public final class SocketpairTransportProvider extends ChildProcessTransportProvider {
  static final String NAME = "socketpair";

  static final InProcessEndpoints IN_PROCESS = new InProcessEndpoints(NAME);

  private static final Throwable UNAVAILABLE = probe();

  public SocketpairTransportProvider() {
    super(NAME, "inherited", "worker", IN_PROCESS, UNAVAILABLE, Set.of());
  }

  private static Throwable probe() {
    try {
      int[] s = Fds.socketPair();
      Fds.close(s[0]);
      Fds.close(s[1]);
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  @Override
  public String description() {
    return "a worker child process on one end of a socketpair (socketpair:<command>; the child serves socketpair:inherited)";
  }

  @Override
  protected Listener listenChildSide(Target target, TransportOptions options, boolean exitWithParent) throws IOException {
    return InheritedListener.takeOver(target, options, exitWithParent);
  }

  @Override
  protected Connection launch(List<String> command, Target target, TransportOptions options) throws IOException {
    return SocketpairLauncher.launch(command, target, options);
  }

  @Override
  protected Connection[] inProcessPair(Target target, TransportOptions options) throws IOException {
    return SocketpairLauncher.inProcessPair(target, options);
  }
}
