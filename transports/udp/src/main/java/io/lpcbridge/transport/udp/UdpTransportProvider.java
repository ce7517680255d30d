package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code udp://host:port}: reliable, ordered messages over UDP datagrams, on Netty with the epoll
 * native transport where available and NIO otherwise. One server socket serves every client.
 * The protocol is specified in {@code docs/udp.md}: a handshake with connection ids and a stateless
 * cookie, sequence numbers with cumulative and selective acknowledgements, RFC 6298 retransmission
 * timeouts with backoff plus fast retransmit, fragmentation and bounded reassembly, a flow window,
 * AIMD congestion control, keepalive and an idle timeout.
 *
 * <p>Options beyond the common ones: {@code io} = {@code auto}|{@code epoll}|{@code nio}|{@code jdk}
 * (JDK datagram channels with no event loop: a caller sends its own datagrams and reads its own
 * reply, and handlers run on the thread that read their call; see {@link UdpSocket});
 * {@code datagramSize} (default 1200 across hosts, 16k on loopback); {@code receiveWindow} (1m);
 * {@code idleTimeout} (5s: a peer silent this long is dead); {@code keepAliveInterval} (1s, or a
 * fifth of an idleTimeout that is set); {@code minRto} (200ms); {@code maxConnections} (4096) and
 * {@code maxConnectionsPerHost} (256) per listener.
 *
 * <p>Liveness: a dead peer, or a path that stopped carrying datagrams, fails the connection within
 * idleTimeout; a client whose server process died learns it at once from ICMP port unreachable
 * where the network delivers it.
 *
 * <p>Counters (datagrams, retransmissions, drops by reason) are read with {@link #stats(Connection)},
 * {@link #stats(Listener)} and {@link #totals()}.
 */
public final class UdpTransportProvider implements TransportProvider {

  @Override
  public String name() {
    return "udp";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("udp");
  }

  @Override
  public String description() {
    String engines = "; io=jdk: JDK sockets, no event loop, inline receive (io=auto|epoll|nio|jdk)";
    return (Epoll.isAvailable()
        ? "reliable messages over UDP, Netty epoll (native)"
        : "reliable messages over UDP, Netty NIO (epoll unavailable: " + Epoll.unavailabilityCause().getMessage() + ")") + engines;
  }

  @Override
  public Set<Capability> capabilities() {
    return UdpConnection.CAPABILITIES;
  }

  @Override
  public Set<Capability> capabilities(TransportOptions options) {
    return UdpSettings.of(options).jdk() ? UdpConnection.INLINE_CAPABILITIES : UdpConnection.CAPABILITIES;
  }

  @Override
  public List<String> optionChoices(String option) {
    return option.equals(UdpEventLoops.IO_OPTION) ? UdpEventLoops.CHOICES : List.of();
  }

  @Override
  public Set<String> supportedOptions() {
    return UdpSettings.OPTIONS;
  }

  @Override
  public boolean isAvailable() {
    return true;
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return Optional.empty();
  }

  @Override
  public List<Target> loopbackTargets(Path scratchDir) {
    return List.of(Target.parse("udp://127.0.0.1:0"));
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    UdpSettings settings = UdpSettings.of(options);
    Target.HostPort hp = target.hostPort(-1);
    return UdpListener.bind(target, new InetSocketAddress(resolve(target, hp), hp.port()), settings);
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    UdpSettings settings = UdpSettings.of(options);
    Target.HostPort hp = target.hostPort(-1);
    if (hp.port() == 0) {
      throw new IllegalArgumentException("target '" + target + "': cannot connect to port 0");
    }
    return UdpClient.connect(target, new InetSocketAddress(resolve(target, hp), hp.port()), settings);
  }

  // ---------------------------------------------------------------- counters

  /** Counters and round-trip figures of a udp connection; empty for another transport's connection. */
  public static Optional<UdpStats> stats(Connection connection) {
    return connection instanceof UdpConnection c ? Optional.of(c.stats()) : Optional.empty();
  }

  /**
   * Counters of a udp listener: its socket (handshakes, drops before a connection is found) and
   * every connection it accepted, including ended ones. Empty for another transport's listener.
   */
  public static Optional<UdpStats> stats(Listener listener) {
    return listener instanceof UdpListener l ? Optional.of(l.stats()) : Optional.empty();
  }

  /** Counters of every udp socket and connection this process has had. */
  public static UdpStats totals() {
    return new UdpStats(Counters.toMap(Counters.sumsOf(Counters.PROCESS)), Duration.ZERO, Duration.ZERO, 0);
  }

  // ---------------------------------------------------------------- helpers

  static String format(InetSocketAddress a) {
    if (a.getAddress() == null) {
      return "udp://" + a.getHostString() + ":" + a.getPort();
    }
    String host = a.getAddress().getHostAddress();
    return "udp://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  private static InetAddress resolve(Target target, Target.HostPort hp) throws UnknownHostException {
    try {
      return InetAddress.getByName(hp.host());
    } catch (UnknownHostException e) {
      UnknownHostException u = new UnknownHostException("udp: cannot resolve host '" + hp.host() + "' of target " + target);
      u.initCause(e);
      throw u;
    }
  }

  @Override
  public String toString() {
    return "UdpTransportProvider[" + description() + "]";
  }
}
