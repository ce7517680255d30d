package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.TransportOptions;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Set;

/**
 * The {@link TransportOptions} a udp listener or connection uses, parsed and checked once.
 *
 * @param loops the event loops and channel class ({@code io}); null with {@code io=jdk}, which runs
 *     on no event loop ({@link JdkUdpSocket})
 * @param maxMessageSize the largest message each way
 * @param highWaterMark unacknowledged bytes above which the connection turns unwritable; it turns
 *     writable again below half
 * @param connectTimeout the bound on the handshake
 * @param linger the bound on an orderly close
 * @param datagramSize the largest datagram to send, or 0 to choose by the peer's address:
 *     {@link #CROSS_HOST_DATAGRAM} across hosts, {@link #LOOPBACK_DATAGRAM} on loopback
 * @param receiveWindow bytes of early chunks a connection may hold, announced in segments
 * @param idleTimeout how long a peer may stay silent before the connection fails
 * @param keepAlive how long this side may stay silent before it sends a PING
 * @param minRto the floor of the retransmission timeout
 * @param maxConnections connections a listener serves at once
 * @param maxConnectionsPerHost connections a listener serves at once to one source address
 */
record UdpSettings(
    UdpEventLoops loops,
    int maxMessageSize,
    int highWaterMark,
    Duration connectTimeout,
    Duration linger,
    int datagramSize,
    int receiveWindow,
    Duration idleTimeout,
    Duration keepAlive,
    Duration minRto,
    int maxConnections,
    int maxConnectionsPerHost) {

  static final String DATAGRAM_SIZE = "datagramSize";
  static final String RECEIVE_WINDOW = "receiveWindow";
  static final String IDLE_TIMEOUT = "idleTimeout";
  static final String KEEP_ALIVE = "keepAliveInterval";
  static final String MIN_RTO = "minRto";
  static final String MAX_CONNECTIONS = "maxConnections";
  static final String MAX_CONNECTIONS_PER_HOST = "maxConnectionsPerHost";

  /** Options udp understands beyond {@link TransportOptions#COMMON}. */
  static final Set<String> OPTIONS = Set.of(
      UdpEventLoops.IO_OPTION, DATAGRAM_SIZE, RECEIVE_WINDOW, IDLE_TIMEOUT, KEEP_ALIVE, MIN_RTO,
      MAX_CONNECTIONS, MAX_CONNECTIONS_PER_HOST);

  /** Default datagram across hosts: fits any IPv6 path (1280-byte MTU) and common tunnels. */
  static final int CROSS_HOST_DATAGRAM = 1200;
  /** Default datagram on loopback, where the MTU is 64 KiB. */
  static final int LOOPBACK_DATAGRAM = 16 * 1024;
  static final int DEFAULT_RECEIVE_WINDOW = 1024 * 1024;
  static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(5);
  static final Duration DEFAULT_KEEP_ALIVE = Duration.ofSeconds(1);
  static final Duration DEFAULT_MIN_RTO = Duration.ofMillis(200);
  static final int DEFAULT_MAX_CONNECTIONS = 4096;
  static final int DEFAULT_MAX_CONNECTIONS_PER_HOST = 256;
  /** Socket buffer requested each way (the kernel caps it at net.core.rmem_max / wmem_max). */
  static final int SOCKET_BUFFER = 4 * 1024 * 1024;
  /** Fewest segments a receive window may have. */
  static final int MIN_WINDOW_SEGMENTS = 16;

  /** Whether sockets run on {@link JdkUdpSocket} instead of Netty's event loops. */
  boolean jdk() {
    return loops == null;
  }

  static UdpSettings of(TransportOptions options) {
    options.checkKnown("udp", OPTIONS);
    int high = options.writeHighWaterMark();
    if (high < 1) {
      throw new IllegalArgumentException("transport option writeHighWaterMark=" + high + " must be positive");
    }
    int datagram = options.getInt(DATAGRAM_SIZE, 0);
    if (options.has(DATAGRAM_SIZE) && (datagram < Wire.MIN_DATAGRAM_SIZE || datagram > Wire.MAX_DATAGRAM_SIZE)) {
      throw new IllegalArgumentException(
          "transport option datagramSize=" + datagram + " is outside " + Wire.MIN_DATAGRAM_SIZE + ".."
              + Wire.MAX_DATAGRAM_SIZE + " (the UDP payload of one datagram; 1200 fits any path, loopback takes up to 65507)");
    }
    int window = options.getInt(RECEIVE_WINDOW, DEFAULT_RECEIVE_WINDOW);
    if (window < 16 * 1024) {
      throw new IllegalArgumentException("transport option receiveWindow=" + window + " is below the minimum 16k");
    }
    Duration idle = options.getDuration(IDLE_TIMEOUT, DEFAULT_IDLE_TIMEOUT);
    Duration keepAlive = options.getDuration(KEEP_ALIVE, options.has(IDLE_TIMEOUT) && !options.has(KEEP_ALIVE)
        ? idle.dividedBy(5) : DEFAULT_KEEP_ALIVE);
    if (idle.toMillis() < 100) {
      throw new IllegalArgumentException("transport option idleTimeout=" + idle.toMillis() + "ms is below the minimum 100ms");
    }
    if (keepAlive.isNegative() || keepAlive.isZero() || keepAlive.multipliedBy(2).compareTo(idle) > 0) {
      throw new IllegalArgumentException(
          "transport option keepAliveInterval=" + keepAlive.toMillis() + "ms must be positive and at most half of idleTimeout="
              + idle.toMillis() + "ms, so that a live peer is heard from before the timeout");
    }
    Duration minRto = options.getDuration(MIN_RTO, DEFAULT_MIN_RTO);
    if (minRto.toMillis() < 1 || minRto.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("transport option minRto=" + minRto.toMillis() + "ms is outside 1ms..1s");
    }
    int maxConnections = options.getInt(MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS);
    int perHost = options.getInt(MAX_CONNECTIONS_PER_HOST, DEFAULT_MAX_CONNECTIONS_PER_HOST);
    if (maxConnections < 1 || perHost < 1) {
      throw new IllegalArgumentException(
          "transport options maxConnections=" + maxConnections + " and maxConnectionsPerHost=" + perHost + " must be positive");
    }
    String io = options.get(UdpEventLoops.IO_OPTION, "auto").trim();
    return new UdpSettings(
        io.equalsIgnoreCase(UdpEventLoops.JDK) ? null : UdpEventLoops.forOption(io),
        options.maxMessageSize(),
        high,
        options.connectTimeout(),
        options.linger(),
        datagram,
        window,
        idle,
        keepAlive,
        minRto,
        maxConnections,
        perHost);
  }

  /** The largest datagram to exchange with a peer at {@code peer}. */
  int datagramSizeFor(InetAddress peer) {
    if (datagramSize != 0) {
      return datagramSize;
    }
    return peer.isLoopbackAddress() ? LOOPBACK_DATAGRAM : CROSS_HOST_DATAGRAM;
  }

  /** The receive window to announce, in segments of {@code datagramSize} bytes. */
  int windowSegments(int datagramSize) {
    return Math.clamp(receiveWindow / datagramSize, MIN_WINDOW_SEGMENTS, Wire.MAX_WINDOW);
  }

  /** What this side announces in the handshake to a peer at {@code peer}. */
  Packets.Params paramsFor(InetAddress peer) {
    int size = datagramSizeFor(peer);
    return new Packets.Params(size, windowSegments(size), maxMessageSize);
  }
}
