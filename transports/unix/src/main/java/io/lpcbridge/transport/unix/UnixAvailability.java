package io.lpcbridge.transport.unix;

import java.util.Optional;
import org.newsclub.net.unix.AFSocket;
import org.newsclub.net.unix.AFSocketCapability;
import org.newsclub.net.unix.AFUNIXSocket;

/**
 * Whether junixsocket works here, asked once: the first use of this class loads junixsocket's native
 * library. Errors of any kind (a missing class, a native library that does not load on this OS or
 * architecture) become the cause reported by {@link UnixTransportProvider#unavailabilityCause()}.
 */
final class UnixAvailability {
  private static final Throwable CAUSE = probe();
  private static final boolean PEER_CREDENTIALS =
      CAUSE == null && AFSocket.supports(AFSocketCapability.CAPABILITY_PEER_CREDENTIALS);
  private static final boolean ABSTRACT_NAMESPACE =
      CAUSE == null && AFSocket.supports(AFSocketCapability.CAPABILITY_ABSTRACT_NAMESPACE);

  private UnixAvailability() {}

  private static Throwable probe() {
    try {
      if (AFUNIXSocket.isSupported() && AFSocket.supports(AFSocketCapability.CAPABILITY_UNIX_DOMAIN)) {
        return null;
      }
      try {
        AFSocket.ensureSupported();
      } catch (Throwable t) {
        return t;
      }
      return new UnsupportedOperationException(
          "junixsocket " + AFSocket.getVersion() + " reports no AF_UNIX stream socket support on "
              + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
    } catch (Throwable t) {
      return t;
    }
  }

  static Optional<Throwable> cause() {
    return Optional.ofNullable(CAUSE);
  }

  static boolean isAvailable() {
    return CAUSE == null;
  }

  static boolean peerCredentials() {
    return PEER_CREDENTIALS;
  }

  static boolean abstractNamespace() {
    return ABSTRACT_NAMESPACE;
  }
}
