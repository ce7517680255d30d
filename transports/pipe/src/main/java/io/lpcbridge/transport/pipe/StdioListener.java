package io.lpcbridge.transport.pipe;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.FdConnections;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Set;

/**
 * {@code pipe:stdio}: the child's side. Binding takes stdin and stdout over (each moved to a private
 * descriptor; stdin then reads /dev/null and stdout goes to stderr), so later prints cannot reach
 * the parent as garbage. {@link #start} writes the ready preamble and hands the one connection to
 * the acceptor.
 */
final class StdioListener implements Listener {
  private static final Object TAKEN_LOCK = new Object();
  /** Guarded by TAKEN_LOCK: stdio can be taken over once per process. */
  private static boolean taken;

  private final Target target;
  private final TransportOptions options;
  private final boolean exitWithParent;
  private final Object lock = new Object();
  /** Guarded by lock; -1 once handed over or closed. */
  private int in;
  /** Guarded by lock; -1 once handed over or closed. */
  private int out;
  /** Guarded by lock. */
  private boolean started;

  private StdioListener(Target target, TransportOptions options, boolean exitWithParent, int in, int out) {
    this.target = target;
    this.options = options;
    this.exitWithParent = exitWithParent;
    this.in = in;
    this.out = out;
  }

  static StdioListener takeOverStdio(Target target, TransportOptions options, boolean exitWithParent) throws IOException {
    synchronized (TAKEN_LOCK) {
      if (taken) {
        throw new java.net.BindException("address in use: this process already serves " + target);
      }
      if (!Fds.status(0).isFifo() || !Fds.status(1).isFifo()) {
        throw new IOException(
            "cannot listen on " + target + ": stdin and stdout of this process must be pipes from a pipe: parent, but"
                + " stdin is " + describe(0) + " and stdout is " + describe(1)
                + " (start this command from the parent with the target pipe:<this command line>)");
      }
      int in = Fds.dup(0, 3);
      int out = Fds.dup(1, 3);
      int devNull = Fds.open(Path.of("/dev/null"), Fds.O_RDONLY, 0);
      try {
        Fds.dup2(devNull, 0);
        Fds.dup2(2, 1);
      } finally {
        Fds.close(devNull);
      }
      taken = true;
      return new StdioListener(target, options, exitWithParent, in, out);
    }
  }

  private static String describe(int fd) throws IOException {
    Fds.FileStatus s = Fds.status(fd);
    return switch (s.type()) {
      case Fds.S_IFIFO -> "a pipe";
      case Fds.S_IFSOCK -> "a socket";
      case Fds.S_IFREG -> "a file";
      case 0020000 -> "a terminal or character device";
      default -> "a file of type 0" + Integer.toOctalString(s.type());
    };
  }

  @Override
  public Target localTarget() {
    return target;
  }

  @Override
  public void start(Acceptor acceptor) {
    int i;
    int o;
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + target);
      }
      if (in < 0) {
        throw new IllegalStateException("listener on " + target + " is closed");
      }
      started = true;
      i = in;
      o = out;
      in = -1;
      out = -1;
    }
    Connection c;
    try {
      ChildConnections.writePreamble(o);
      c =
          FdConnections.create(
              i, o, options, PipeTransportProvider.NAME, target.toString(), "parent pid " + ProcessHandle.current().parent().map(p -> p.pid()).orElse(-1L),
              Set.of(Capability.SPAWNS_PEER));
    } catch (IOException e) {
      Fds.closeQuietly(i);
      Fds.closeQuietly(o);
      acceptor.onListenerFailed(new IOException("cannot serve " + target + ": " + e.getMessage(), e));
      return;
    }
    if (exitWithParent) {
      c = ChildConnections.exitingWithParent(c);
    }
    acceptor.onConnection(c);
  }

  @Override
  public void close() {
    int i;
    int o;
    synchronized (lock) {
      i = in;
      o = out;
      in = -1;
      out = -1;
    }
    // Not started: the parent sees end of file and reports that the child stopped before serving.
    Fds.closeQuietly(i);
    Fds.closeQuietly(o);
  }

  @Override
  public String toString() {
    return "pipe listener on " + target;
  }
}
