package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
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
 * <p>Everything after {@link #connect}'s setup runs on the socket's event loop.
 */
final class UdpClient extends ChannelInboundHandlerAdapter implements DatagramPort {
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

  private volatile Channel channel;

  // Event loop only.
  private Phase phase = Phase.INIT;
  private long serverCid;
  private Packets.Params serverParams;
  private long cookieTimestamp;
  private byte[] cookieMac;
  private long cookieReceivedAt;
  private long lastSentAt;
  private int attempts;
  private long handshakeRtt;
  private ScheduledFuture<?> retransmit;
  private UdpConnection connection;
  private boolean inRead;
  private boolean needsFlush;
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
    Bootstrap b = new Bootstrap()
        .group(settings.loops().group())
        .channel(settings.loops().channelClass())
        .option(ChannelOption.SO_RCVBUF, UdpSettings.SOCKET_BUFFER)
        .option(ChannelOption.SO_SNDBUF, UdpSettings.SOCKET_BUFFER)
        .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_536))
        .handler(client);
    ChannelFuture f = b.connect(remote);
    try {
      if (!f.await(timeoutMillis, TimeUnit.MILLISECONDS) || !f.isSuccess()) {
        f.channel().close();
        Counters.PROCESS.retire(client.counters);
        Throwable cause = f.cause();
        IOException e = new IOException("udp: cannot open a socket to " + target + ": "
            + (cause == null ? "did not complete within connectTimeout" : describe(cause)));
        e.initCause(cause);
        throw e;
      }
    } catch (InterruptedException e) {
      f.channel().close();
      Counters.PROCESS.retire(client.counters);
      Thread.currentThread().interrupt();
      throw new IOException("udp: interrupted while connecting to " + target, e);
    }
    Channel ch = f.channel();
    client.channel = ch;
    ch.closeFuture().addListener(cf -> Counters.PROCESS.retire(client.counters));
    ch.eventLoop().execute(client::sendInit);
    try {
      return client.established.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      SocketTimeoutException t = new SocketTimeoutException(
          "udp: no answer from " + target + " within connectTimeout " + settings.connectTimeout().toMillis()
              + "ms: nothing listens there and ICMP is filtered, a firewall drops UDP, or the path cannot carry "
              + client.params.datagramSize() + "-byte datagrams (lower the transport option datagramSize)"
              + (client.lastSocketError != null ? "; last socket error: " + client.lastSocketError.getMessage() : ""));
      if (client.established.completeExceptionally(t)) {
        ch.eventLoop().execute(() -> client.failHandshake(t));
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
      ch.eventLoop().execute(() -> client.failHandshake(e));
      throw new IOException("udp: interrupted while connecting to " + target, e);
    }
  }

  // ------------------------------------------------------------------ handshake (event loop)

  private void sendInit() {
    if (phase != Phase.INIT) {
      return;
    }
    ByteBuf d = channel.alloc().directBuffer(params.datagramSize());
    Packets.writeInit(d, clientCid, params);
    sendHandshake(d);
  }

  private void sendEcho() {
    ByteBuf d = channel.alloc().directBuffer(Wire.COOKIE_LENGTH);
    Packets.writeCookie(d, Wire.TYPE_COOKIE_ECHO, serverCid, clientCid, params, cookieTimestamp, cookieMac);
    sendHandshake(d);
  }

  private void sendHandshake(ByteBuf d) {
    counters.inc(Counter.DATAGRAMS_SENT);
    counters.add(Counter.BYTES_SENT, d.readableBytes());
    channel.writeAndFlush(d, channel.voidPromise());
    lastSentAt = System.nanoTime();
    long delay = Math.min(RttEstimator.INITIAL_RTO_NANOS << Math.min(attempts, 8), RttEstimator.MAX_BACKOFF_NANOS);
    attempts++;
    if (retransmit != null) {
      retransmit.cancel(false);
    }
    retransmit = channel.eventLoop().schedule(this::onRetransmitTimer, delay, TimeUnit.NANOSECONDS);
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
      counters.inc(check == Packets.Check.TRUNCATED ? Counter.TRUNCATED_DROPPED : Counter.MALFORMED_DROPPED);
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
      retransmit.cancel(false);
      retransmit = null;
    }
    int size = Math.min(params.datagramSize(), serverParams.datagramSize());
    ReliableSession.Config config = new ReliableSession.Config(
        clientCid, serverCid, size, params.window(), serverParams.window(), settings.maxMessageSize(),
        settings.idleTimeout(), settings.keepAlive(), settings.minRto(), settings.linger(), peerName);
    connection = new UdpConnection(
        this, remote, UdpTransportProvider.format((InetSocketAddress) channel.localAddress()), config,
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
      retransmit.cancel(false);
      retransmit = null;
    }
    established.completeExceptionally(cause);
    channel.close();
  }

  // ------------------------------------------------------------------ Netty callbacks (event loop)

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    DatagramPacket packet = (DatagramPacket) msg;
    ByteBuf d = packet.content();
    inRead = true;
    try {
      long now = System.nanoTime();
      Packets.Check check = Packets.checkHeader(d);
      if (check != Packets.Check.OK) {
        countReceived(d);
        counters.inc(check == Packets.Check.TRUNCATED ? Counter.TRUNCATED_DROPPED : Counter.MALFORMED_DROPPED);
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
    } finally {
      packet.release();
    }
  }

  private void countReceived(ByteBuf d) {
    counters.inc(Counter.DATAGRAMS_RECEIVED);
    counters.add(Counter.BYTES_RECEIVED, d.readableBytes());
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    inRead = false;
    if (pumpOwed && connection != null) {
      pumpOwed = false;
      connection.pump();
    }
    flush();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
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
  public void channelInactive(ChannelHandlerContext ctx) {
    if (connection != null) {
      connection.abort(new IOException("udp: the socket to " + peerName + " was closed"), false);
    } else {
      failHandshake(new IOException("udp: the socket to " + target + " was closed during the handshake"));
    }
  }

  // ------------------------------------------------------------------ DatagramPort (event loop)

  @Override
  public EventLoop eventLoop() {
    return channel.eventLoop();
  }

  @Override
  public ByteBuf allocate(int capacity) {
    return channel.alloc().directBuffer(capacity);
  }

  @Override
  public void write(UdpConnection c, ByteBuf datagram) {
    channel.write(datagram, channel.voidPromise());
    needsFlush = true;
  }

  @Override
  public boolean inReadBatch() {
    return inRead;
  }

  @Override
  public void pumpAfterReadBatch(UdpConnection c) {
    pumpOwed = true;
  }

  @Override
  public void flush() {
    if (needsFlush && !inRead) {
      needsFlush = false;
      channel.flush();
    }
  }

  @Override
  public void terminated(UdpConnection c) {
    flush();
    channel.close();
  }

  /** A cause's message, or its kind when it has none (netty's socket errors can come without one). */
  private static String describe(Throwable cause) {
    String m = cause.getMessage();
    String kind = cause.getClass().getSimpleName();
    if (m == null || m.isBlank()) {
      return kind;
    }
    return m.startsWith("null") ? kind + m.substring(4) : m;
  }
}
