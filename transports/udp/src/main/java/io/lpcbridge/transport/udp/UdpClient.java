package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.SocketTimeoutException;
import java.security.SecureRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The client end: its own socket, connected to the server's address (so the kernel filters other
 * sources and reports ICMP port unreachable), the client half of the handshake, and then the port of
 * the one {@link UdpConnection} it carries.
 *
 * <h2>Handshake</h2>
 *
 * INIT (padded to this side's datagram size, which also shows the path carries it) is sent until a
 * COOKIE comes back; then COOKIE_ECHO with the first cookie received until ACCEPT, or any SESSION
 * datagram, confirms the connection. Each is repeated after 250 ms, doubling up to 1 s, for at most
 * connectTimeout. A cookie older than {@link #COOKIE_RESTART_MICROS} is dropped and the handshake
 * starts over, well inside the server's cookie lifetime. REFUSE ends the attempt with the server's
 * reason; ICMP port unreachable ends it with "nothing listens".
 *
 * <p>Everything after {@link #connect}'s setup runs in the socket's loop ({@link UdpSocket}).
 */
final class UdpClient implements DatagramPort, UdpSocket.Handler {
  static final long COOKIE_RESTART_MICROS = UdpListener.COOKIE_LIFETIME_MICROS / 2;
  private static final SecureRandom RANDOM = new SecureRandom();

  private enum Phase {
    INIT,
    ECHO,
    OPEN,
    FAILED
  }

  private final Target target;
  private final InetSocketAddress remote;
  private final String peerName;
  private final UdpSettings settings;
  private final Packets.Params params;
  private final long clientCid;
  private final Counters counters = new Counters();
  private final CompletableFuture<UdpConnection> established = new CompletableFuture<>();

  private volatile UdpSocket socket;

  // In the loop only.
  private Phase phase = Phase.INIT;
  private long serverCid;
  private Packets.Params serverParams;
  private long cookieTimestamp;
  private byte[] cookieMac;
  private long cookieReceivedAt;
  private long lastSentAt;
  private int attempts;
  private long handshakeRtt;
  private UdpSocket.Timer retransmit;
  private UdpConnection connection;
  private boolean pumpOwed;
  private volatile Throwable lastSocketError;

  private UdpClient(Target target, InetSocketAddress remote, UdpSettings settings) {
    this.target = target;
    this.remote = remote;
    this.peerName = UdpTransportProvider.format(remote);
    this.settings = settings;
    this.params = settings.paramsFor(remote.getAddress());
    long cid;
    do {
      cid = RANDOM.nextLong();
    } while (cid == 0);
    this.clientCid = cid;
  }

  /** Opens a socket to {@code remote}, runs the handshake and returns the connection, not started. */
  static UdpConnection connect(Target target, InetSocketAddress remote, UdpSettings settings) throws IOException {
    UdpClient client = new UdpClient(target, remote, settings);
    Counters.PROCESS.join(client.counters);
    long timeoutMillis = settings.connectTimeout().toMillis();
    UdpSocket socket;
    try {
      socket = UdpSocket.connect(settings, remote, client, target.toString());
    } catch (IOException | RuntimeException e) {
      Counters.PROCESS.retire(client.counters);
      throw e;
    }
    client.socket = socket;
    socket.whenClosed(() -> Counters.PROCESS.retire(client.counters));
    socket.execute(client::sendInit);
    try {
      return client.established.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      SocketTimeoutException t = new SocketTimeoutException(
          "udp: no answer from " + target + " within connectTimeout " + settings.connectTimeout().toMillis()
              + "ms: nothing listens there and ICMP is filtered, a firewall drops UDP, or the path cannot carry "
              + client.params.datagramSize() + "-byte datagrams (lower the transport option datagramSize)"
              + (client.lastSocketError != null ? "; last socket error: " + client.lastSocketError.getMessage() : ""));
      if (client.established.completeExceptionally(t)) {
        socket.execute(() -> client.failHandshake(t));
        throw t;
      }
      return client.established.getNow(null); // established just now
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException("udp: cannot connect to " + target + ": " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      client.established.completeExceptionally(e);
      socket.execute(() -> client.failHandshake(e));
      throw new IOException("udp: interrupted while connecting to " + target, e);
    }
  }

  // ------------------------------------------------------------------ handshake (in the loop)

  private void sendInit() {
    if (phase != Phase.INIT) {
      return;
    }
    ByteBuf d = socket.allocate(params.datagramSize());
    Packets.writeInit(d, clientCid, params);
    sendHandshake(d);
  }

  private void sendEcho() {
    ByteBuf d = socket.allocate(Wire.COOKIE_LENGTH);
    Packets.writeCookie(d, Wire.TYPE_COOKIE_ECHO, serverCid, clientCid, params, cookieTimestamp, cookieMac);
    sendHandshake(d);
  }

  private void sendHandshake(ByteBuf d) {
    counters.inc(Counter.DATAGRAMS_SENT);
    counters.add(Counter.BYTES_SENT, d.readableBytes());
    socket.write(d, null);
    socket.flush();
    lastSentAt = System.nanoTime();
    long delay = Math.min(RttEstimator.INITIAL_RTO_NANOS << Math.min(attempts, 8), RttEstimator.MAX_BACKOFF_NANOS);
    attempts++;
    if (retransmit != null) {
      retransmit.cancel();
    }
    retransmit = socket.schedule(this::onRetransmitTimer, delay);
  }

  private void onRetransmitTimer() {
    retransmit = null;
    if (established.isDone()) {
      return;
    }
    if (phase == Phase.INIT) {
      sendInit();
    } else if (phase == Phase.ECHO) {
      if ((System.nanoTime() - cookieReceivedAt) / 1000 > COOKIE_RESTART_MICROS) {
        phase = Phase.INIT;
        attempts = 0;
        sendInit();
      } else {
        sendEcho();
      }
    }
  }

  private void onCookie(ByteBuf d, long now) {
    if (phase != Phase.INIT) {
      return; // only the first cookie counts: a second would make the server open a second connection
    }
    if (Packets.checkHandshake(d) != Packets.Check.OK) {
      counters.inc(Counter.TRUNCATED_DROPPED);
      return;
    }
    Packets.Params p = Packets.handshakeParams(d);
    if (!p.valid()) {
      counters.inc(Counter.MALFORMED_DROPPED);
      return;
    }
    if (attempts == 1) {
      handshakeRtt = now - lastSentAt;
    }
    serverCid = Packets.handshakeCid(d);
    serverParams = p;
    cookieTimestamp = Packets.cookieTimestamp(d);
    cookieMac = Packets.cookieMac(d);
    cookieReceivedAt = now;
    phase = Phase.ECHO;
    attempts = 0;
    sendEcho();
  }

  private void onAccept(ByteBuf d, long now) {
    if (phase != Phase.ECHO) {
      return;
    }
    if (Packets.checkHandshake(d) != Packets.Check.OK) {
      counters.inc(Counter.TRUNCATED_DROPPED);
      return;
    }
    if (Packets.acceptCid(d) != serverCid) {
      counters.inc(Counter.MALFORMED_DROPPED);
      return;
    }
    if (attempts == 1) {
      handshakeRtt = now - lastSentAt;
    }
    establish(now);
  }

  private void onRefuse(ByteBuf d) {
    Packets.Check check = Packets.checkReason(d);
    if (check != Packets.Check.OK) {
      counters.inc(check.dropped());
      return;
    }
    if (phase == Phase.INIT || phase == Phase.ECHO) {
      failHandshake(new ConnectException(
          "udp: " + target + " refused the connection: " + Packets.reasonText(d) + " (code " + Packets.reasonCode(d) + ")"));
    }
  }

  private void establish(long now) {
    phase = Phase.OPEN;
    if (retransmit != null) {
      retransmit.cancel();
      retransmit = null;
    }
    int size = Math.min(params.datagramSize(), serverParams.datagramSize());
    ReliableSession.Config config = new ReliableSession.Config(
        clientCid, serverCid, size, params.window(), serverParams.window(), settings.maxMessageSize(),
        settings.idleTimeout(), settings.keepAlive(), settings.minRto(), settings.linger(), peerName);
    connection = new UdpConnection(
        this, remote, UdpTransportProvider.format(socket.localAddress()), config,
        serverParams.maxMessageSize(), settings.highWaterMark(), counters, handshakeRtt, 0);
    if (!established.complete(connection)) {
      connection.abort(new IOException("udp: connect to " + target + " was abandoned"), true);
    }
  }

  private void failHandshake(Throwable cause) {
    if (phase == Phase.OPEN || phase == Phase.FAILED) {
      return;
    }
    phase = Phase.FAILED;
    if (retransmit != null) {
      retransmit.cancel();
      retransmit = null;
    }
    established.completeExceptionally(cause);
    socket.close();
  }

  // ------------------------------------------------------------------ the socket's events (in the loop)

  @Override
  public void onDatagram(ByteBuf d, InetSocketAddress sender, long now) {
    Packets.Check check = Packets.checkHeader(d);
    if (check != Packets.Check.OK) {
      countReceived(d);
      counters.inc(check.dropped());
      return;
    }
    if (Packets.destination(d) != clientCid) {
      countReceived(d);
      counters.inc(Counter.UNKNOWN_CONNECTION_DROPPED);
      return;
    }
    int type = Packets.type(d);
    switch (type) {
      case Wire.TYPE_COOKIE -> {
        countReceived(d);
        onCookie(d, now);
      }
      case Wire.TYPE_ACCEPT -> {
        countReceived(d);
        onAccept(d, now);
      }
      case Wire.TYPE_REFUSE -> {
        countReceived(d);
        onRefuse(d);
      }
      case Wire.TYPE_SESSION, Wire.TYPE_RESET -> {
        if (connection == null && phase == Phase.ECHO && type == Wire.TYPE_SESSION) {
          establish(now); // ACCEPT was lost; the server's first datagram confirms the connection
        }
        if (connection != null) {
          connection.onDatagram(d, now); // the session counts it
        } else {
          countReceived(d);
          counters.inc(Counter.UNKNOWN_CONNECTION_DROPPED);
        }
      }
      default -> {
        countReceived(d);
        counters.inc(Counter.MALFORMED_DROPPED);
      }
    }
  }

  private void countReceived(ByteBuf d) {
    counters.inc(Counter.DATAGRAMS_RECEIVED);
    counters.add(Counter.BYTES_RECEIVED, d.readableBytes());
  }

  @Override
  public void onReadComplete() {
    if (pumpOwed && connection != null) {
      pumpOwed = false;
      connection.pump();
    }
  }

  @Override
  public void onError(Throwable cause) {
    if (isPortUnreachable(cause)) {
      counters.inc(Counter.PORT_UNREACHABLE);
      if (connection == null) {
        ConnectException e = new ConnectException(
            "udp: nothing listens at " + target + " (its host answered ICMP port unreachable)");
        e.initCause(cause);
        failHandshake(e);
      } else {
        PortUnreachableException e = new PortUnreachableException(
            "udp peer " + peerName + " is gone: its host reports that nothing listens on that port any more"
                + " (ICMP port unreachable)");
        e.initCause(cause);
        connection.abort(e, false);
      }
      return;
    }
    // Anything else is a send or receive that failed (network unreachable while a link is down...):
    // the datagram is lost like any other; retransmission, connectTimeout or idleTimeout decide.
    counters.inc(Counter.SOCKET_ERRORS);
    lastSocketError = cause;
  }

  /** ECONNREFUSED on a connected UDP socket: an ICMP port unreachable came back. */
  private static boolean isPortUnreachable(Throwable cause) {
    return cause instanceof PortUnreachableException
        || (cause instanceof IOException && cause.getMessage() != null && cause.getMessage().contains("Connection refused"));
  }

  @Override
  public void onClosed() {
    if (connection != null) {
      connection.abort(new IOException("udp: the socket to " + peerName + " was closed"), false);
    } else {
      failHandshake(new IOException("udp: the socket to " + target + " was closed during the handshake"));
    }
  }

  // ------------------------------------------------------------------ DatagramPort (in the loop)

  @Override
  public UdpSocket socket() {
    return socket;
  }

  @Override
  public void write(UdpConnection c, ByteBuf datagram) {
    socket.write(datagram, null);
  }

  @Override
  public void pumpAfterReadBatch(UdpConnection c) {
    pumpOwed = true;
  }

  @Override
  public void terminated(UdpConnection c) {
    socket.flush();
    socket.close();
  }
}
