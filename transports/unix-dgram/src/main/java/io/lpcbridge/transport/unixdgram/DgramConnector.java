package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ConnectionHooks;
import io.lpcbridge.transport.channel.DatagramConnections;
import java.io.IOException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.ConnectionRefusedSocketException;

/**
 * The client's handshake on unix+dgram:
 *
 * <ol>
 *   <li>Bind a socket of its own (a fresh abstract name), not connected: Linux lets a socket
 *       connect only to a peer that is not connected to someone else, and the server's connection
 *       socket must connect to this one.
 *   <li>Send HELLO to the well-known socket: this socket's address, its datagram size, a random
 *       nonce.
 *   <li>Receive WELCOME within {@code connectTimeout} from the socket the server made for this
 *       connection (already connected to this one), with the nonce echoed and its address (or
 *       REFUSE and why). Datagrams without the nonce are ignored.
 *   <li>Connect to that socket: from now on the kernel accepts datagrams from it alone. Discard
 *       whatever else arrived before, then send READY, the first datagram of the connection; the
 *       server sends nothing before it.
 * </ol>
 */
final class DgramConnector {
  private static final SecureRandom NONCES = new SecureRandom();
  /** An unconnected send cannot wait for room in the server's queue: it retries this often. */
  private static final long RETRY_MILLIS = 2;

  private DgramConnector() {}

  static Connection connect(DgramAddress server, Target target, TransportOptions options, DgramSettings settings) throws IOException {
    if (!server.isAbstract() && DgramSockets.fileKey(server.path()) == null) {
      throw new ConnectException(
          "cannot connect to " + target + ": there is no socket file at " + server.path() + ", so no server listens there"
              + " (is the server running, and is the path right?)");
    }
    DgramAddress mine = DgramSockets.freshAbstract("c");
    AFUNIXDatagramChannel ch = DgramSockets.bound(mine, settings.datagramSize());
    Selector selector = null;
    JunixDatagramIo io;
    try {
      ch.configureBlocking(false);
      selector = ch.provider().openSelector();
      SelectionKey key = ch.register(selector, 0);
      long deadline = System.nanoTime() + options.connectTimeout().toNanos();
      byte[] nonce = new byte[DgramHandshake.NONCE_BYTES];
      NONCES.nextBytes(nonce);
      ByteBuffer hello = DgramHandshake.encode(DgramHandshake.HELLO, settings.datagramSize(), nonce, mine.describe());
      sendHello(ch, hello, server, deadline, target, options);
      DgramHandshake.Message welcome = awaitWelcome(ch, selector, key, nonce, deadline, target, options);
      DgramAddress connectionSocket;
      try {
        connectionSocket = DgramAddress.parse(welcome.text());
      } catch (IllegalArgumentException e) {
        throw new ConnectException("cannot connect to " + target + ": the server's WELCOME names a bad address: " + e.getMessage());
      }
      int size = welcome.datagramSize();
      if (size < DgramSettings.MIN_DATAGRAM || size > settings.datagramSize()) {
        throw new ConnectException("cannot connect to " + target + ": the server chose datagrams of " + size + " bytes, outside "
            + DgramSettings.MIN_DATAGRAM + ".." + settings.datagramSize());
      }
      key.cancel();
      selector.close();
      selector = null;
      ch.connect(connectionSocket.socketAddress());
      ByteBuffer discard = ByteBuffer.allocateDirect(settings.datagramSize() + 1);
      while (ch.read(discard.clear()) > 0) {
        // Sent by someone else before we connected; the server sends nothing before READY.
      }
      ch.configureBlocking(true);
      ch.write(DatagramConnections.readyDatagram());
      io = new JunixDatagramIo(ch, size, "server connection socket " + connectionSocket.describe());
    } catch (IOException | RuntimeException e) {
      if (selector != null) {
        selector.close();
      }
      ch.close();
      if (e instanceof IOException io2 && (io2.getMessage() == null || !io2.getMessage().contains(target.toString()))) {
        throw new IOException("cannot connect to " + target + ": " + e.getMessage(), e);
      }
      throw e;
    }
    Connection c =
        DatagramConnections.create(
            io,
            options,
            new DatagramConnections.Settings(
                UnixDgramTransportProvider.NAME, mine.describe(), target.toString(), Set.of(Capability.MESSAGE_BOUNDARIES, Capability.INLINE_RECEIVE),
                settings.keepAlive(), false));
    if (server.isAbstract()) {
      return c;
    }
    // A crashed server leaves its socket file behind; its clients are the ones who notice.
    return ConnectionHooks.cleanUpAfterPeer(c, server.describe(), () -> DgramSockets.removeIfStale(server.path()));
  }

  private static void sendHello(
      AFUNIXDatagramChannel ch, ByteBuffer hello, DgramAddress server, long deadline, Target target, TransportOptions options)
      throws IOException {
    while (true) {
      int n;
      try {
        n = ch.send(hello, server.socketAddress());
      } catch (ConnectionRefusedSocketException e) {
        boolean removed = !server.isAbstract() && DgramSockets.removeIfStale(server.path());
        ConnectException refused = new ConnectException(
            "cannot connect to " + target + ": no server receives on " + server.describe() + " (connection refused"
                + (removed ? "; the socket file a crashed server left was removed)" : ")"));
        refused.initCause(e);
        throw refused;
      }
      if (n > 0) {
        return;
      }
      if (deadline - System.nanoTime() <= 0) {
        throw new SocketTimeoutException(
            "cannot connect to " + target + ": the server's socket stayed full for connectTimeout="
                + options.connectTimeout().toMillis() + "ms (is the server stuck?)");
      }
      try {
        Thread.sleep(RETRY_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while connecting to " + target);
      }
    }
  }
  private static DgramHandshake.Message awaitWelcome(
      AFUNIXDatagramChannel ch, Selector selector, SelectionKey key, byte[] nonce, long deadline, Target target, TransportOptions options)
      throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(DgramHandshake.MAX_BYTES + 1);
    while (true) {
      buf.clear();
      if (ch.receive(buf) == null) {
        await(selector, key, SelectionKey.OP_READ, deadline, target, options, "the server did not answer");
        continue;
      }
      buf.flip();
      DgramHandshake.Message m;
      try {
        m = DgramHandshake.decode(buf);
      } catch (ProtocolException e) {
        continue; // Not from the server: anyone may send to an unconnected socket.
      }
      if (!Arrays.equals(m.nonce(), nonce)) {
        continue; // Not the answer to this HELLO.
      }
      if (m.type() == DgramHandshake.REFUSE) {
        throw new ConnectException("cannot connect to " + target + ": the server refused: " + m.text());
      }
      if (m.type() != DgramHandshake.WELCOME) {
        throw new ConnectException("cannot connect to " + target + ": the server answered with handshake type " + m.type());
      }
      return m;
    }
  }

  private static void await(Selector selector, SelectionKey key, int op, long deadline, Target target, TransportOptions options, String what)
      throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException(
          "cannot connect to " + target + ": " + what + " within connectTimeout=" + options.connectTimeout().toMillis() + "ms");
    }
    key.interestOps(op);
    selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    selector.selectedKeys().clear();
  }
}
