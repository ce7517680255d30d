package io.lpcbridge.transport.pipe;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChildSideListener;
import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code pipe:stdio}: the child's side. Binding takes stdin and stdout over (each moved to a private
 * descriptor; stdin then reads /dev/null and stdout goes to stderr), so later prints cannot reach
 * the parent as garbage; a {@link ChildSideListener} then serves the one connection on them.
 */
final class StdioListener {
  private static final Object TAKEN_LOCK = new Object();
  /** Guarded by TAKEN_LOCK: stdio can be taken over once per process. */
  private static boolean taken;

  private StdioListener() {}

  static Listener takeOverStdio(Target target, TransportOptions options, boolean exitWithParent) throws IOException {
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
      return new ChildSideListener(PipeTransportProvider.NAME, target, options, exitWithParent, in, out);
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
}
