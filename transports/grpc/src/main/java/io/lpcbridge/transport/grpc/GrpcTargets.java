package io.lpcbridge.transport.grpc;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportUnavailableException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Native gRPC endpoints for the {@code grpc://host:port} and {@code grpc+unix:///path} targets,
 * for the bridge's own client and server and for the tunnel transport here.
 *
 * <p>What the options become:
 *
 * <ul>
 *   <li>{@code maxMessageSize} — {@code maxInboundMessageSize}, on both ends.
 *   <li>{@code connectTimeout} — the socket connect timeout of the channel.
 *   <li>{@code keepAliveTime} (default 10s; the client cannot go below gRPC's minimum of 10s) and
 *       {@code keepAliveTimeout} (default 5s) — HTTP/2 keepalive pings both ways, even without
 *       calls, so a peer host that vanishes is noticed within their sum; the server permits pings
 *       that often. A peer process that dies is noticed at once: its kernel closes the socket.
 *   <li>{@code writeHighWaterMark} and {@code linger} — not used by gRPC, which has its own
 *       HTTP/2 flow-control windows and its own shutdown.
 * </ul>
 *
 * Plaintext only: TLS, where wanted, is configured on the returned builder.
 */
public final class GrpcTargets {
  /** Interval between keepalive pings, e.g. {@code 10s}. */
  public static final String KEEP_ALIVE_TIME = "keepAliveTime";
  /** How long a keepalive ping may go unanswered before the connection is dropped. */
  public static final String KEEP_ALIVE_TIMEOUT = "keepAliveTimeout";
  /** Options understood beyond {@link TransportOptions#COMMON}. */
  public static final Set<String> OPTIONS = Set.of(KEEP_ALIVE_TIME, KEEP_ALIVE_TIMEOUT);

  static final String TCP_SCHEME = "grpc";
  static final String UNIX_SCHEME = "grpc+unix";

  private static final Duration DEFAULT_KEEP_ALIVE_TIME = Duration.ofSeconds(10);
  private static final Duration DEFAULT_KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(5);

  private static volatile EventLoopGroup unixGroup;

  private GrpcTargets() {}

  /**
   * A server builder bound to {@code target}: {@code grpc://host:port} (port 0 picks a free port;
   * read it back with {@link #boundTarget}) or {@code grpc+unix:///path}. Add services and build.
   *
   * @throws IllegalArgumentException for another scheme, a malformed target or option
   * @throws TransportUnavailableException for {@code grpc+unix} where epoll is not available
   */
  public static NettyServerBuilder serverBuilder(Target target, TransportOptions options)
      throws TransportUnavailableException {
    options.checkKnown("grpc", OPTIONS);
    NettyServerBuilder b;
    if (isUnix(target)) {
      EventLoopGroup group = unixGroup(target);
      b = NettyServerBuilder.forAddress(new DomainSocketAddress(unixPath(target)))
          .bossEventLoopGroup(group)
          .workerEventLoopGroup(group)
          .channelType(EpollServerDomainSocketChannel.class)
          // gRPC sets SO_KEEPALIVE on every channel; a Unix socket has none and Netty warns on
          // each connection. A null value removes the option (grpc-java#10408).
          .withChildOption(ChannelOption.SO_KEEPALIVE, null);
    } else {
      Target.HostPort hp = tcpHostPort(target);
      b = NettyServerBuilder.forAddress(new InetSocketAddress(hp.host(), hp.port()));
    }
    Duration keepAlive = keepAliveTime(options);
    return b.maxInboundMessageSize(options.maxMessageSize())
        .keepAliveTime(keepAlive.toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(keepAliveTimeout(options).toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveTime(keepAlive.toNanos(), TimeUnit.NANOSECONDS)
        .permitKeepAliveWithoutCalls(true);
  }

  /**
   * A plaintext channel builder for {@code target}: {@code grpc://host:port} or {@code
   * grpc+unix:///path}.
   *
   * @throws IllegalArgumentException for another scheme, a malformed target or option, or port 0
   * @throws TransportUnavailableException for {@code grpc+unix} where epoll is not available
   */
  public static NettyChannelBuilder channelBuilder(Target target, TransportOptions options)
      throws TransportUnavailableException {
    options.checkKnown("grpc", OPTIONS);
    NettyChannelBuilder b;
    if (isUnix(target)) {
      b = NettyChannelBuilder.forAddress(new DomainSocketAddress(unixPath(target)))
          .eventLoopGroup(unixGroup(target))
          .channelType(EpollDomainSocketChannel.class, DomainSocketAddress.class)
          .withOption(ChannelOption.SO_KEEPALIVE, null)
          // A Unix socket has no host name; the HTTP/2 :authority must still be valid.
          .overrideAuthority("localhost");
    } else {
      Target.HostPort hp = tcpHostPort(target);
      if (hp.port() == 0) {
        throw new IllegalArgumentException("target '" + target + "': cannot connect to port 0");
      }
      b = NettyChannelBuilder.forAddress(hp.host(), hp.port());
    }
    return b.usePlaintext()
        .maxInboundMessageSize(options.maxMessageSize())
        .withOption(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, options.connectTimeout().toMillis()))
        .keepAliveTime(keepAliveTime(options).toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveTimeout(keepAliveTimeout(options).toNanos(), TimeUnit.NANOSECONDS)
        .keepAliveWithoutCalls(true);
  }

  /**
   * The target a started server built by {@link #serverBuilder} is reachable at: {@code requested}
   * with a port 0 replaced by the bound port.
   *
   * @throws IllegalStateException if the server is not started
   */
  public static Target boundTarget(Target requested, Server server) {
    if (isUnix(requested)) {
      return requested;
    }
    int port = server.getPort();
    if (port < 0) {
      throw new IllegalStateException("server for " + requested + " is not started (or not bound to a port)");
    }
    Target.HostPort hp = tcpHostPort(requested);
    return Target.of(requested.scheme(), "//" + new Target.HostPort(hp.host(), port));
  }

  /** Whether {@code grpc+unix} works here (it needs the shaded epoll native transport). */
  public static boolean isUnixAvailable() {
    return Epoll.isAvailable();
  }

  /** Why {@code grpc+unix} does not work here; empty when it does. */
  public static Optional<Throwable> unixUnavailabilityCause() {
    return Optional.ofNullable(Epoll.unavailabilityCause());
  }

  static boolean isUnix(Target target) {
    return switch (target.scheme()) {
      case UNIX_SCHEME -> true;
      case TCP_SCHEME -> false;
      default -> throw new IllegalArgumentException(
          "target '" + target + "' is not a gRPC target: use grpc://host:port or grpc+unix:///path");
    };
  }

  private static Target.HostPort tcpHostPort(Target target) {
    return target.hostPort(-1);
  }

  private static String unixPath(Target target) {
    String path = target.path();
    if (path.startsWith("@")) {
      throw new IllegalArgumentException(
          "target '" + target + "': gRPC over Unix sockets takes a file path (grpc+unix:///path), not an abstract name");
    }
    return path;
  }

  private static Duration keepAliveTime(TransportOptions options) {
    return options.getDuration(KEEP_ALIVE_TIME, DEFAULT_KEEP_ALIVE_TIME);
  }

  private static Duration keepAliveTimeout(TransportOptions options) {
    return options.getDuration(KEEP_ALIVE_TIMEOUT, DEFAULT_KEEP_ALIVE_TIMEOUT);
  }

  /** One shared group of daemon epoll threads for Unix-socket channels and servers, never shut down. */
  private static EventLoopGroup unixGroup(Target target) throws TransportUnavailableException {
    if (!Epoll.isAvailable()) {
      throw new TransportUnavailableException(
          "transport grpc for '" + target + "' is not available here: grpc+unix needs epoll, which failed to load: "
              + Epoll.unavailabilityCause().getMessage(),
          Epoll.unavailabilityCause());
    }
    EventLoopGroup g = unixGroup;
    if (g == null) {
      synchronized (GrpcTargets.class) {
        g = unixGroup;
        if (g == null) {
          unixGroup = g = new MultiThreadIoEventLoopGroup(
              0, new DefaultThreadFactory("lpcbridge-grpc-unix", true), EpollIoHandler.newFactory());
        }
      }
    }
    return g;
  }
}
