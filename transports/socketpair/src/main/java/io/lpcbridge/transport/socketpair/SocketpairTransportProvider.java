package io.lpcbridge.transport.socketpair;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.ChildTarget;
import io.lpcbridge.transport.channel.InProcessEndpoints;
import java.io.IOException;
import java.util.Optional;
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
public final class SocketpairTransportProvider implements TransportProvider {
  static final String NAME = "socketpair";
  static final String SCHEME = "socketpair";
  static final String CHILD_SIDE = "inherited";
  static final String EXIT_WITH_PARENT = "exitWithParent";

  static final InProcessEndpoints IN_PROCESS = new InProcessEndpoints(NAME);

  private static final Throwable UNAVAILABLE = probe();

  public SocketpairTransportProvider() {}

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
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> schemes() {
    return Set.of(SCHEME);
  }

  @Override
  public String description() {
    return "a worker child process on one end of a socketpair (socketpair:<command>; the child serves socketpair:inherited)";
  }

  @Override
  public java.util.Optional<Target> childServeTarget() {
    return java.util.Optional.of(Target.of(name(), "inherited"));
  }

  @Override
  public Target spawnTarget(java.util.List<String> command) {
    return io.lpcbridge.transport.channel.ChildTarget.spawning(name(), command);
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.SPAWNS_PEER);
  }

  @Override
  public Set<String> supportedOptions() {
    return Set.of(ChildTarget.COMMAND_OPTION, ChildConnections.CHILD_STDERR_OPTION, EXIT_WITH_PARENT);
  }

  @Override
  public boolean isAvailable() {
    return UNAVAILABLE == null;
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return Optional.ofNullable(UNAVAILABLE);
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    ChildTarget t = check(target, options);
    if (t.isInProcess()) {
      return IN_PROCESS.bind(t.inProcessName(), target);
    }
    if (!t.childSide()) {
      throw new IllegalArgumentException(
          "cannot listen on '" + target + "': a socketpair: target with a command is for the parent, which connects"
              + " to it; the worker it starts listens on socketpair:" + CHILD_SIDE);
    }
    return InheritedListener.takeOver(target, options, options.getBoolean(EXIT_WITH_PARENT, true));
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    ChildTarget t = check(target, options);
    if (t.childSide()) {
      throw new IllegalArgumentException(
          "cannot connect to '" + target + "': socketpair:" + CHILD_SIDE + " is the worker's side, which listens"
              + " (bridge serve --target socketpair:" + CHILD_SIDE + "); the parent connects to socketpair:<command line>");
    }
    if (t.isInProcess()) {
      return IN_PROCESS.connect(t.inProcessName(), target, () -> SocketpairLauncher.inProcessPair(target, options));
    }
    return SocketpairLauncher.launch(t.command(), target, options);
  }

  private ChildTarget check(Target target, TransportOptions options) throws IOException {
    if (!SCHEME.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not a " + SCHEME + ": target");
    }
    options.checkKnown(NAME, supportedOptions());
    options.maxMessageSize();
    options.getBoolean(EXIT_WITH_PARENT, true);
    ChildTarget t = ChildTarget.parse(target, CHILD_SIDE, options.get(ChildTarget.COMMAND_OPTION, null));
    if (UNAVAILABLE != null) {
      throw new TransportUnavailableException(
          "transport socketpair for '" + target + "' is not available here: " + UNAVAILABLE.getMessage(), UNAVAILABLE);
    }
    return t;
  }
}
