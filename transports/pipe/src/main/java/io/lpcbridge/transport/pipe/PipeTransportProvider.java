package io.lpcbridge.transport.pipe;

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
import io.lpcbridge.transport.channel.FdConnections;
import io.lpcbridge.transport.channel.InProcessEndpoints;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;

/**
 * {@code pipe:}: the parent launches a child command and calls it over the child's stdin and
 * stdout, as editors do with language servers; the child's stderr stays the parent's, for logs.
 *
 * <h2>Targets</h2>
 *
 * <ul>
 *   <li>{@code pipe:<command line>} (or {@code pipe:} with the option {@code command}), to connect:
 *       starts the command (words split as a shell would, nothing expanded) with a new pipe on its
 *       stdin and another on its stdout, and waits for it to serve. Each connect starts a new child;
 *       the child is reaped when the connection closes.
 *   <li>{@code pipe:stdio}, to listen, in the child: serves the one connection on this process's
 *       stdin and stdout ({@code bridge serve --target pipe:stdio}). It takes both descriptors over:
 *       stdin then reads /dev/null and stdout writes to stderr, so nothing printed later can corrupt
 *       the channel. With {@code exitWithParent} (default true) the process exits once that
 *       connection closes.
 *   <li>{@code pipe:@name}: two components of one process, over two pipes.
 * </ul>
 *
 * Messages are length-prefixed ({@link FdConnections}); the handshake is the ready preamble of
 * {@link ChildConnections}. See docs/local-ipc.md.
 *
 * <h2>Options</h2>
 *
 * {@code command} (the parent's command line, for a bare {@code pipe:}), {@code childStderr}
 * ({@code inherit}, {@code discard} or a file; see {@link ChildConnections#CHILD_STDERR_OPTION}),
 * {@code exitWithParent} (the child's side; default true).
 */
public final class PipeTransportProvider implements TransportProvider {
  static final String NAME = "pipe";
  static final String SCHEME = "pipe";
  static final String CHILD_SIDE = "stdio";
  /** Child side: exit once the connection to the parent closes. */
  static final String EXIT_WITH_PARENT = "exitWithParent";

  static final InProcessEndpoints IN_PROCESS = new InProcessEndpoints(NAME);

  private static final Throwable UNAVAILABLE = probe();

  public PipeTransportProvider() {}

  private static Throwable probe() {
    try {
      Fds.closeQuietly(Fds.pipe(0)[0]);
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
    return "a child process over its stdin/stdout (pipe:<command>; the child serves pipe:stdio), length-prefixed messages";
  }

  @Override
  public java.util.Optional<Target> childServeTarget() {
    return java.util.Optional.of(Target.of(name(), "stdio"));
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
          "cannot listen on '" + target + "': a pipe: target with a command is for the parent, which connects to it;"
              + " the child it starts listens on pipe:" + CHILD_SIDE);
    }
    return StdioListener.takeOverStdio(target, options, options.getBoolean(EXIT_WITH_PARENT, true));
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    ChildTarget t = check(target, options);
    if (t.childSide()) {
      throw new IllegalArgumentException(
          "cannot connect to '" + target + "': pipe:" + CHILD_SIDE + " is the child's side, which listens"
              + " (bridge serve --target pipe:" + CHILD_SIDE + "); the parent connects to pipe:<command line>");
    }
    if (t.isInProcess()) {
      return IN_PROCESS.connect(t.inProcessName(), target, () -> PipeLauncher.inProcessPair(target, options));
    }
    return PipeLauncher.launch(t.command(), target, options);
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
          "transport pipe for '" + target + "' is not available here: " + UNAVAILABLE.getMessage(), UNAVAILABLE);
    }
    return t;
  }
}
