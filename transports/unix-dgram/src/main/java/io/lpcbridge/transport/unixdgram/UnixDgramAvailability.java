package io.lpcbridge.transport.unixdgram;

import java.util.Optional;
import org.newsclub.net.unix.AFSocket;
import org.newsclub.net.unix.AFSocketCapability;
import org.newsclub.net.unix.AFUNIXSocket;

/**
 * Whether junixsocket's Unix datagram sockets and the abstract namespace (for each connection's
 * own sockets) work here, asked once.
 */
final class UnixDgramAvailability {
  private static final Throwable CAUSE = probe();

  private UnixDgramAvailability() {}

  private static Throwable probe() {
    try {
      if (!AFUNIXSocket.isSupported()) {
        AFSocket.ensureSupported();
      }
      if (!AFSocket.supports(AFSocketCapability.CAPABILITY_UNIX_DATAGRAMS)) {
        return new UnsupportedOperationException(
            "junixsocket " + AFSocket.getVersion() + " reports no AF_UNIX datagram support on " + System.getProperty("os.name"));
      }
      if (!AFSocket.supports(AFSocketCapability.CAPABILITY_ABSTRACT_NAMESPACE)) {
        return new UnsupportedOperationException(
            "unix+dgram names each connection's sockets in Linux's abstract namespace, which this OS lacks");
      }
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  static Optional<Throwable> cause() {
    return Optional.ofNullable(CAUSE);
  }
}
