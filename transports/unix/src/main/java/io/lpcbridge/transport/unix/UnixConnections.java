package io.lpcbridge.transport.unix;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChannelConnections;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.util.Optional;
import java.util.Set;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.newsclub.net.unix.ConnectionRefusedSocketException;

/** Dialling unix sockets and reading who is on the other end. */
final class UnixConnections {
  private UnixConnections() {}

  /**
   * Connects to {@code address}, blocking for at most the connect timeout (a unix connect waits only
   * when the server's accept backlog is full).
   *
   * @param target the target as the caller wrote it, for messages
   */
  static Connection connect(UnixAddress address, Target target, TransportOptions options, Set<Capability> capabilities)
      throws IOException {
    AFUNIXSocketChannel channel = AFUNIXSocketChannel.open();
    Optional<PeerCredentials> peer;
    try {
      channel.socket().connect(address.socketAddress(), timeoutMillis(options));
      peer = peerCredentials(channel);
    } catch (IOException e) {
      channel.close();
      throw explain(e, address, target, options);
    } catch (RuntimeException e) {
      channel.close();
      throw e;
    }
    return ChannelConnections.create(
        channel,
        options,
        UnixTransportProvider.NAME,
        "pid " + ProcessHandle.current().pid(),
        target.toString(),
        capabilities,
        peer);
  }

  private static int timeoutMillis(TransportOptions options) {
    long millis = options.connectTimeout().toMillis();
    return Math.clamp(millis, 1, Integer.MAX_VALUE);
  }

  private static IOException explain(IOException e, UnixAddress address, Target target, TransportOptions options) {
    String what = "cannot connect to " + target + ": ";
    IOException explained;
    if (e instanceof SocketTimeoutException) {
      explained = new SocketTimeoutException(
          what + "no connection within connectTimeout=" + options.connectTimeout().toMillis()
              + "ms (is the server's accept backlog full?)");
    } else if (!address.isAbstract() && Files.notExists(address.path(), LinkOption.NOFOLLOW_LINKS)) {
      explained = new ConnectException(
          what + "there is no socket file at " + address.path() + ", so no server listens there"
              + " (is the server running, and is the path right?)");
    } else if (e instanceof ConnectionRefusedSocketException) {
      explained = new ConnectException(
          what + (address.isAbstract()
              ? "no server listens on the abstract name " + address.describe() + " (connection refused)"
              : "no server listens on " + address.path() + " (connection refused: a stale socket file"
                  + " left by a server that exited?)"));
    } else {
      explained = new IOException(what + e.getMessage());
    }
    explained.initCause(e);
    return explained;
  }

  /** The peer's pid, uid and gid (SO_PEERCRED), when junixsocket can read them here. */
  static Optional<PeerCredentials> peerCredentials(AFUNIXSocketChannel channel) throws IOException {
    if (!UnixAvailability.peerCredentials()) {
      return Optional.empty();
    }
    AFUNIXSocketCredentials c = channel.getPeerCredentials();
    if (c == null || c.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new PeerCredentials(c.getPid(), c.getUid(), c.getGid()));
  }

  /** A peer as it appears in logs and {@link Connection#remoteAddress()}. */
  static String describe(PeerCredentials peer) {
    return "pid " + peer.pid() + " (uid " + peer.uid() + ", gid " + peer.gid() + ")";
  }
}
