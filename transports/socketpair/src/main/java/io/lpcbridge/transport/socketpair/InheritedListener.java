package io.lpcbridge.transport.socketpair;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildSideListener;
import java.io.IOException;
import java.net.BindException;

/**
 * {@code socketpair:inherited}: the worker's side. Binding takes the inherited socket over (moved
 * to a private close-on-exec descriptor, so the worker's own children do not inherit it); a {@link
 * ChildSideListener} then serves the one connection on it.
 */
final class InheritedListener {
  private static final Object TAKEN_LOCK = new Object();
  /** Guarded by TAKEN_LOCK. */
  private static boolean taken;

  private InheritedListener() {}

  static Listener takeOver(Target target, TransportOptions options, boolean exitWithParent) throws IOException {
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
      return new ChildSideListener(SocketpairTransportProvider.NAME, target, options, exitWithParent, mine, mine);
    }
  }
}
