package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One server socket serving every client: the server half of the handshake, and the port of every
 * connection it accepted, which all run in its loop ({@link UdpSocket}). Datagrams are routed by destination
 * connection id and must come from the address the connection was opened from.
 *
 * <h2>Memory under attack</h2>
 *
 * INIT is answered with a stateless cookie ({@link CookieJar}): nothing is kept, and the answer is
 * smaller than the (padded) INIT. State is allocated only for a COOKIE_ECHO whose cookie verifies,
 * which only a source that received the cookie can send, and then only up to maxConnections in all
 * and maxConnectionsPerHost per source address; beyond that the handshake is refused. A repeated
 * COOKIE_ECHO for a live connection is answered again without allocating; one for a connection that
 * has ended is recognized by a tombstone kept until the cookie expires (at most {@link
 * #MAX_TOMBSTONES}; when they overflow, every cookie minted before the evicted one is refused).
 *
 * <h2>Lifecycle</h2>
 *
 * The socket is bound with reading off; {@link #start} turns reading on. {@link #close} stops
 * accepting: a closed listener answers handshakes with REFUSE, and its socket is closed (the port
 * released) as soon as the last accepted connection has ended, since they share it.
 */
final class UdpListener implements Listener, DatagramPort, UdpSocket.Handler {
  static final long COOKIE_LIFETIME_MICROS = 30_000_000L;
  static final int MAX_TOMBSTONES = 65_536;
  private static final long CLOSE_WAIT_MILLIS = 5_000;

  private final UdpSettings settings;
  private final Counters socketCounters = new Counters();
  private final Counters.Group group = new Counters.Group();
  private final CookieJar cookies = new CookieJar();
  private UdpSocket socket;
  private Target boundTarget;
  private String localAddress;

  /** Guarded by {@code this}. */
  private Acceptor acceptor;
  private volatile boolean closed;

  // In the loop only.
  private final Map<Long, UdpConnection> connections = new HashMap<>();
  private final Map<InetAddress, Integer> perHost = new HashMap<>();
  private final LinkedHashMap<Long, Long> tombstones = new LinkedHashMap<>();
  private long replayWatermark = Long.MIN_VALUE;
  private final List<UdpConnection> owed = new ArrayList<>();

  private UdpListener(UdpSettings settings) {
    this.settings = settings;
    group.join(socketCounters);
  }

  static UdpListener bind(Target target, InetSocketAddress address, UdpSettings settings) throws IOException {
    Target.HostPort requested = target.hostPort(-1);
    UdpListener listener = new UdpListener(settings);
    UdpSocket socket = UdpSocket.bind(settings, address, listener, target.toString());
    Target local = Target.of(target.scheme(), "//" + new Target.HostPort(requested.host(), socket.localAddress().getPort()));
    listener.finishBind(socket, local);
    return listener;
  }

  private void finishBind(UdpSocket s, Target local) {
    this.socket = s;
    this.boundTarget = local;
    this.localAddress = UdpTransportProvider.format(s.localAddress());
    Counters.PROCESS.join(group);
    s.whenClosed(() -> Counters.PROCESS.retire(group));
  }

  // ------------------------------------------------------------------ Listener

  @Override
  public Target localTarget() {
    return boundTarget;
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("listener on " + boundTarget + " is closed");
      }
      if (this.acceptor != null) {
        throw new IllegalStateException("start() called twice on the listener on " + boundTarget);
      }
      this.acceptor = acceptor;
    }
    socket.startReading();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    if (socket.inLoop()) {
      closeIfIdle();
      return;
    }
    socket.executeAndWait(this::closeIfIdle, CLOSE_WAIT_MILLIS);
    if (!socket.isOpen()) {
      socket.awaitClosed(CLOSE_WAIT_MILLIS); // the port is free once close() returns
    }
  }

  private void closeIfIdle() {
    if (connections.isEmpty()) {
      socket.close();
    }
  }

  UdpStats stats() {
    return new UdpStats(Counters.toMap(Counters.sumsOf(group)), Duration.ZERO, Duration.ZERO, 0);
  }

  @Override
  public String toString() {
    return "udp listener on " + boundTarget;
  }

  // ------------------------------------------------------------------ datagrams in (in the loop)

  @Override
  public void onDatagram(ByteBuf d, InetSocketAddress sender, long now) {
    Packets.Check check = Packets.checkHeader(d);
    if (check != Packets.Check.OK) {
      countReceived(d);
      socketCounters.inc(check.dropped());
      return;
    }
    switch (Packets.type(d)) {
      case Wire.TYPE_INIT -> onInit(d, sender);
      case Wire.TYPE_COOKIE_ECHO -> onEcho(d, sender, now);
      case Wire.TYPE_SESSION, Wire.TYPE_RESET -> {
        UdpConnection c = connections.get(Packets.destination(d));
        if (c == null) {
          countReceived(d);
          socketCounters.inc(Counter.UNKNOWN_CONNECTION_DROPPED);
        } else if (!c.peer().equals(sender)) {
          countReceived(d);
          socketCounters.inc(Counter.WRONG_SOURCE_DROPPED);
        } else {
          c.onDatagram(d, now);
        }
      }
      default -> {
        countReceived(d);
        socketCounters.inc(Counter.MALFORMED_DROPPED);
      }
    }
  }

  @Override
  public void onReadComplete() {
    for (int i = 0; i < owed.size(); i++) {
      owed.get(i).pump();
    }
    owed.clear();
  }

  @Override
  public void onError(Throwable cause) {
    // An unconnected socket reports no ICMP errors. What comes here is a failed send (a link that
    // is down, a route that is gone): the datagram is lost like any other, and retransmission or the
    // idle timeout deals with it. The socket stays open.
    socketCounters.inc(Counter.SOCKET_ERRORS);
  }

  @Override
  public void onClosed() {
    failAll(new IOException("udp: the listening socket on " + boundTarget + " closed"));
    Acceptor a;
    synchronized (this) {
      a = closed ? null : acceptor;
    }
    if (a != null) {
      IOException e = new IOException("udp: the listening socket on " + boundTarget + " closed unexpectedly");
      socket.upcall(() -> a.onListenerFailed(e)); // as onConnection: no lock of this socket held
    }
  }

  private void failAll(IOException cause) {
    for (UdpConnection c : List.copyOf(connections.values())) {
      c.abort(cause, false);
    }
  }

  private void countReceived(ByteBuf d) {
    socketCounters.inc(Counter.DATAGRAMS_RECEIVED);
    socketCounters.add(Counter.BYTES_RECEIVED, d.readableBytes());
  }

  // ------------------------------------------------------------------ handshake (in the loop)

  private void onInit(ByteBuf d, InetSocketAddress sender) {
    countReceived(d);
    if (Packets.checkHandshake(d) != Packets.Check.OK) {
      socketCounters.inc(Counter.TRUNCATED_DROPPED);
      return;
    }
    Packets.Params p = Packets.handshakeParams(d);
    long clientCid = Packets.handshakeCid(d);
    if (!p.valid() || clientCid == 0 || Packets.destination(d) != 0) {
      socketCounters.inc(Counter.MALFORMED_DROPPED);
      return;
    }
    if (d.readableBytes() < p.datagramSize()) {
      // Not padded to its own size: it proves nothing about the path and could amplify.
      socketCounters.inc(Counter.TRUNCATED_DROPPED);
      return;
    }
    if (refuse(sender, clientCid)) {
      return;
    }
    long ts = cookies.nowMicros();
    byte[] h = cookies.digest(clientCid, sender, ts, p);
    ByteBuf reply = socket.allocate(Wire.COOKIE_LENGTH);
    Packets.writeCookie(reply, Wire.TYPE_COOKIE, clientCid, CookieJar.serverCid(h),
        settings.paramsFor(sender.getAddress()), ts, CookieJar.cookieMac(h));
    sendDirect(reply, sender);
    socketCounters.inc(Counter.COOKIES_SENT);
  }

  private void onEcho(ByteBuf d, InetSocketAddress sender, long now) {
    countReceived(d);
    if (Packets.checkHandshake(d) != Packets.Check.OK) {
      socketCounters.inc(Counter.TRUNCATED_DROPPED);
      return;
    }
    Packets.Params p = Packets.handshakeParams(d);
    if (!p.valid()) {
      socketCounters.inc(Counter.MALFORMED_DROPPED);
      return;
    }
    long serverCid = Packets.destination(d);
    long clientCid = Packets.handshakeCid(d);
    long ts = Packets.cookieTimestamp(d);
    if (!cookies.verify(serverCid, Packets.cookieMac(d), clientCid, sender, ts, p)) {
      socketCounters.inc(Counter.COOKIE_INVALID_DROPPED);
      return;
    }
    UdpConnection existing = connections.get(serverCid);
    if (existing != null) {
      // Verified, so it is the same client, whose ACCEPT was lost: answer again, allocate nothing.
      socketCounters.inc(Counter.HANDSHAKE_DUPLICATES);
      sendAccept(sender, clientCid, serverCid);
      return;
    }
    if (tombstones.containsKey(serverCid) || ts <= replayWatermark) {
      socketCounters.inc(Counter.COOKIE_REPLAYED_DROPPED);
      return;
    }
    long age = cookies.nowMicros() - ts;
    if (age < 0 || age > COOKIE_LIFETIME_MICROS) {
      socketCounters.inc(Counter.COOKIE_EXPIRED_DROPPED);
      return;
    }
    if (refuse(sender, clientCid)) {
      return;
    }
    Packets.Params mine = settings.paramsFor(sender.getAddress());
    ReliableSession.Config config = new ReliableSession.Config(
        serverCid, clientCid, Math.min(p.datagramSize(), mine.datagramSize()), mine.window(), p.window(),
        settings.maxMessageSize(), settings.idleTimeout(), settings.keepAlive(), settings.minRto(), settings.linger(),
        UdpTransportProvider.format(sender));
    Counters counters = new Counters();
    group.join(counters);
    // The cookie's age is a round trip (COOKIE out, COOKIE_ECHO back) plus the client's turnaround.
    long rtt = age < RttEstimator.INITIAL_RTO_NANOS / 1000 ? age * 1000 : 0;
    UdpConnection c = new UdpConnection(
        this, sender, localAddress, config, p.maxMessageSize(), settings.highWaterMark(), counters, rtt, ts);
    connections.put(serverCid, c);
    perHost.merge(sender.getAddress(), 1, Integer::sum);
    socketCounters.inc(Counter.CONNECTIONS_ACCEPTED);
    sendAccept(sender, clientCid, serverCid);
    Acceptor a;
    synchronized (this) {
      a = acceptor;
    }
    // An upcall, as a message is: with io=jdk the acceptor runs once the socket's lock is released.
    // Run under it, an acceptor that takes its own lock (BridgeServer's) deadlocked against a
    // shutdown holding that lock while it closed this listener.
    socket.upcall(() -> {
      try {
        a.onConnection(c);
      } catch (RuntimeException e) {
        c.close();
      }
    });
  }

  /** Sends REFUSE and returns true if this handshake must not go on. */
  private boolean refuse(InetSocketAddress sender, long clientCid) {
    int code;
    String reason;
    int fromHost = perHost.getOrDefault(sender.getAddress(), 0);
    if (closed) {
      code = Wire.REFUSE_LISTENER_CLOSED;
      reason = "the listener on " + boundTarget + " is closed";
    } else if (connections.size() >= settings.maxConnections()) {
      code = Wire.REFUSE_TOO_MANY;
      reason = "the listener serves " + connections.size() + " connections, its maxConnections";
    } else if (fromHost >= settings.maxConnectionsPerHost()) {
      code = Wire.REFUSE_TOO_MANY_FROM_HOST;
      reason = "the listener serves " + fromHost + " connections from " + sender.getAddress().getHostAddress()
          + ", its maxConnectionsPerHost";
    } else {
      return false;
    }
    ByteBuf reply = socket.allocate(Packets.reasonPacketLength(reason));
    Packets.writeReason(reply, Wire.TYPE_REFUSE, clientCid, code, reason);
    sendDirect(reply, sender);
    socketCounters.inc(Counter.CONNECTIONS_REFUSED);
    return true;
  }

  private void sendAccept(InetSocketAddress to, long clientCid, long serverCid) {
    ByteBuf reply = socket.allocate(Wire.ACCEPT_LENGTH);
    Packets.writeAccept(reply, clientCid, serverCid);
    sendDirect(reply, to);
  }

  private void sendDirect(ByteBuf d, InetSocketAddress to) {
    socketCounters.inc(Counter.DATAGRAMS_SENT);
    socketCounters.add(Counter.BYTES_SENT, d.readableBytes());
    socket.write(d, to);
    socket.flush();
  }

  // ------------------------------------------------------------------ DatagramPort (in the loop)

  @Override
  public UdpSocket socket() {
    return socket;
  }

  @Override
  public void write(UdpConnection c, ByteBuf datagram) {
    socket.write(datagram, c.peer());
  }

  @Override
  public void pumpAfterReadBatch(UdpConnection c) {
    if (c.markPumpPending()) {
      owed.add(c);
    }
  }

  @Override
  public void terminated(UdpConnection c) {
    socket.flush();
    if (connections.remove(c.localCid()) == null) {
      return;
    }
    perHost.computeIfPresent(c.peer().getAddress(), (a, n) -> n > 1 ? n - 1 : null);
    long now = cookies.nowMicros();
    if (now - c.cookieTimestamp() <= COOKIE_LIFETIME_MICROS) {
      addTombstone(c.localCid(), c.cookieTimestamp(), now);
    }
    group.retire(c.counters());
    if (closed && connections.isEmpty()) {
      socket.close();
    }
  }

  private void addTombstone(long serverCid, long cookieTimestamp, long now) {
    for (Iterator<Map.Entry<Long, Long>> it = tombstones.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<Long, Long> e = it.next();
      if (now - e.getValue() <= COOKIE_LIFETIME_MICROS) {
        break; // roughly in cookie order; older ones go as they reach the front
      }
      it.remove();
    }
    if (tombstones.size() >= MAX_TOMBSTONES) {
      Iterator<Map.Entry<Long, Long>> it = tombstones.entrySet().iterator();
      replayWatermark = Math.max(replayWatermark, it.next().getValue());
      it.remove();
    }
    tombstones.put(serverCid, cookieTimestamp);
  }

  /** Connections open now, for tests: read in the loop, waiting up to 5 s for it. */
  int connectionCount() {
    int[] n = {-1};
    socket.executeAndWait(() -> n[0] = connections.size(), CLOSE_WAIT_MILLIS);
    return n[0];
  }
}
