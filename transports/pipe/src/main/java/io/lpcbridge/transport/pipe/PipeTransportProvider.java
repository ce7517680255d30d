package io.lpcbridge.transport.pipe;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.ChildProcessTransportProvider;
import io.lpcbridge.transport.channel.FdConnections;
import io.lpcbridge.transport.channel.InProcessEndpoints;
import io.lpcbridge.transport.channel.PipeBuffers;
import java.io.IOException;
import java.util.List;
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
 * {@code exitWithParent} (the child's side; default true), {@code pipeSize} (kernel buffer of each
 * pipe a side writes to, default 1m; see {@link PipeBuffers}).
 */
public final class PipeTransportProvider extends ChildProcessTransportProvider {
  static final String NAME = "pipe";

  static final InProcessEndpoints IN_PROCESS = new InProcessEndpoints(NAME);

  private static final Throwable UNAVAILABLE = probe();

  public PipeTransportProvider() {
    super(NAME, "stdio", "child", IN_PROCESS, UNAVAILABLE, Set.of(PipeBuffers.OPTION));
  }

  private static Throwable probe() {
    try {
      int[] p = Fds.pipe(0);
      Fds.close(p[0]);
      Fds.close(p[1]);
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  @Override
  public String description() {
    return "a child process over its stdin/stdout (pipe:<command>; the child serves pipe:stdio), length-prefixed messages";
  }

  @Override
  protected Listener listenChildSide(Target target, TransportOptions options, boolean exitWithParent) throws IOException {
    return StdioListener.takeOverStdio(target, options, exitWithParent);
  }

  @Override
  protected Connection launch(List<String> command, Target target, TransportOptions options) throws IOException {
    return PipeLauncher.launch(command, target, options);
  }

  @Override
  protected Connection[] inProcessPair(Target target, TransportOptions options) throws IOException {
    return PipeLauncher.inProcessPair(target, options);
  }
}
