package io.lpcbridge.transport.unix;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.AcceptingListener;
import io.lpcbridge.transport.channel.ChannelConnections;
import java.io.IOException;
import java.net.BindException;
import java.util.Optional;
import java.util.Set;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AddressAlreadyInUseSocketException;

/**
 * A bound unix stream socket accepting connections on one platform daemon thread ({@link
 * AcceptingListener}).
 *
 * <h2>Who may connect</h2>
 *
 * A path socket's file gets the {@code mode} option (default {@code 0600}) right after bind, and
 * the kernel then refuses anyone it does not admit. But junixsocket binds, sets the file to {@code
 * 0666} and listens in one call, so a process of another user could connect before the mode is
 * set. Instead of closing that window in the file system (binding in a private directory and
 * moving the file into place does not work: junixsocket's accept checks that the bound path still
 * holds the same inode), every accepted peer's credentials are checked against the same mode
 * ({@link AccessMode#admits}) and refused peers are closed at once. The same check is the only
 * protection an abstract name has: it has no file, so any local process could otherwise connect.
 */
final class UnixListener extends AcceptingListener<AFUNIXSocketChannel> {
  private static final System.Logger LOG = System.getLogger(UnixListener.class.getName());
  private static final int BACKLOG = 128;

  private final UnixAddress address;
  private final TransportOptions options;
  private final PeerAdmission admission;
  private final Set<Capability> capabilities;
  /** The socket file's identity, so close() never removes a successor's file. Null if abstract. */
  private final Object fileKey;

  private UnixListener(
      AFUNIXServerSocketChannel server,
      UnixAddress address,
      TransportOptions options,
      PeerAdmission admission,
      Set<Capability> capabilities) {
    super(server, address.target(), "unix accept " + address.describe());
    this.address = address;
    this.options = options;
    this.admission = admission;
    this.capabilities = capabilities;
    this.fileKey = address.isAbstract() ? null : SocketFiles.fileKey(address.path());
  }

  /** Binds {@code address}; see the class comment for permissions and {@link SocketFiles#bind}. */
  static UnixListener bind(
      UnixAddress address, Target requested, TransportOptions options, Set<Capability> capabilities)
      throws IOException {
    AccessMode mode = AccessMode.parse(options.get(AccessMode.OPTION, null));
    AFUNIXServerSocketChannel server;
    PeerAdmission admission;
    try {
      if (address.isAbstract()) {
        server = bindAbstract(address);
        admission = closeOnFailure(server, () -> PeerAdmission.forThisProcess(mode));
      } else {
        server = SocketFiles.bind(address.path(), mode, BACKLOG);
        admission = closeOnFailure(server, () -> PeerAdmission.forFile(address.path(), mode));
      }
    } catch (BindException e) {
      throw e;
    } catch (IOException e) {
      throw new IOException("cannot listen on " + requested + ": " + e.getMessage(), e);
    }
    return new UnixListener(server, address, options, admission, capabilities);
  }

  private static AFUNIXServerSocketChannel bindAbstract(UnixAddress address) throws IOException {
    AFUNIXServerSocketChannel server = AFUNIXServerSocketChannel.open();
    try {
      server.bind(address.socketAddress(), BACKLOG);
      return server;
    } catch (AddressAlreadyInUseSocketException e) {
      server.close();
      BindException inUse =
          new BindException("address in use: a server is already listening on " + address.describe());
      inUse.initCause(e);
      throw inUse;
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  private interface IoSupplier<T> {
    T get() throws IOException;
  }

  private static <T> T closeOnFailure(AFUNIXServerSocketChannel server, IoSupplier<T> step) throws IOException {
    try {
      return step.get();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  @Override
  protected Connection accepted(AFUNIXSocketChannel channel) throws IOException {
    Optional<PeerCredentials> peer = UnixConnections.peerCredentials(channel);
    if (peer.isPresent() && !admission.admits(peer.get())) {
      LOG.log(
          System.Logger.Level.WARNING,
          "refused a connection on {0} from {1}: mode {2} does not admit it",
          localTarget(), UnixConnections.describe(peer.get()), admission.mode());
      channel.close();
      return null;
    }
    return ChannelConnections.create(
        channel,
        options,
        UnixTransportProvider.NAME,
        localTarget().toString(),
        peer.map(UnixConnections::describe).orElse("unix peer"),
        capabilities,
        peer);
  }

  @Override
  protected String closedUnexpectedly() {
    // junixsocket closes the server itself when the socket file was removed or replaced.
    return "listener on " + localTarget() + " stopped: its socket was closed"
        + (address.isAbstract() ? "" : " (was the socket file " + address.path() + " removed or replaced?)");
  }

  /** Removes the socket file, if it is still ours. */
  @Override
  protected void releaseMore() {
    if (fileKey != null) {
      try {
        SocketFiles.removeIfSame(address.path(), fileKey);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "could not remove socket file " + address.path(), e);
      }
    }
  }

  @Override
  public String toString() {
    return "unix listener on " + localTarget();
  }
}
