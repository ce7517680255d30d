package io.lpcbridge.transport.socketpair;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildConnections;
import io.lpcbridge.transport.channel.FdConnections;
import java.io.IOException;
import java.net.BindException;
import java.util.Set;

/**
 * {@code socketpair:inherited}: the worker's side. Binding takes the inherited socket over (moved
 * to a private close-on-exec descriptor, so the worker's own children do not inherit it); {@link
 * #start} writes the ready preamble and hands the one connection to the acceptor.
 */
final class InheritedListener implements Listener {
  private static final Object TAKEN_LOCK = new Object();
  /** Guarded by TAKEN_LOCK. */
  private static boolean taken;

  private final Target target;
  private final TransportOptions options;
  private final boolean exitWithParent;
  private final Object lock = new Object();
  /** Guarded by lock; -1 once handed over or closed. */
  private int fd;
  /** Guarded by lock. */
  private boolean started;

  private InheritedListener(Target target, TransportOptions options, boolean exitWithParent, int fd) {
    this.target = target;
    this.options = options;
    this.exitWithParent = exitWithParent;
    this.fd = fd;
  }

  static InheritedListener takeOver(Target target, TransportOptions options, boolean exitWithParent) throws IOException {
    synchronized (TAKEN_LOCK) {
      if (taken) {
        throw new BindException("address in use: this process already serves " + target);
      }
      String env = System.getenv(SocketpairLauncher.FD_ENV);
      if (env == null) {
        throw new IOException(
            "cannot listen on " + target + ": this process was not started by a socketpair: parent (the environment"
                + " variable " + SocketpairLauncher.FD_ENV + " is not set); start it with the target socketpair:<this command line>");
      }
      int inherited;
      try {
        inherited = Integer.parseInt(env.trim());
      } catch (NumberFormatException e) {
        throw new IOException("cannot listen on " + target + ": " + SocketpairLauncher.FD_ENV + "='" + env + "' is not a descriptor number");
      }
      Fds.FileStatus status;
      try {
        status = Fds.status(inherited);
      } catch (IOException e) {
        throw new IOException(
            "cannot listen on " + target + ": descriptor " + inherited + " named by " + SocketpairLauncher.FD_ENV
                + " is not open (" + e.getMessage() + "); was this process started by a socketpair: parent?", e);
      }
      if (!status.isSocket()) {
        throw new IOException(
            "cannot listen on " + target + ": descriptor " + inherited + " named by " + SocketpairLauncher.FD_ENV
                + " is not a socket (inherited by a child of the worker?)");
      }
      int mine = Fds.dup(inherited, 3);
      Fds.close(inherited);
      taken = true;
      return new InheritedListener(target, options, exitWithParent, mine);
    }
  }

  @Override
  public Target localTarget() {
    return target;
  }

  @Override
  public void start(Acceptor acceptor) {
    int s;
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + target);
      }
      if (fd < 0) {
        throw new IllegalStateException("listener on " + target + " is closed");
      }
      started = true;
      s = fd;
      fd = -1;
    }
    Connection c;
    try {
      ChildConnections.writePreamble(s);
      c =
          FdConnections.create(
              s, s, options, SocketpairTransportProvider.NAME, target.toString(),
              "parent pid " + ProcessHandle.current().parent().map(p -> p.pid()).orElse(-1L), Set.of(Capability.SPAWNS_PEER));
    } catch (IOException e) {
      Fds.closeQuietly(s);
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
    int s;
    synchronized (lock) {
      s = fd;
      fd = -1;
    }
    Fds.closeQuietly(s);
  }

  @Override
  public String toString() {
    return "socketpair listener on " + target;
  }
}
