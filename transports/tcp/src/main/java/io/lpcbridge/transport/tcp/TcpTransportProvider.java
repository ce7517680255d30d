package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code tcp://host:port}: messages over TCP, each framed by a 4-byte big-endian length (see
 * {@link FrameDecoder}), on Netty with the epoll native transport where available and NIO
 * otherwise. TCP_NODELAY and SO_KEEPALIVE are on.
 *
 * <p>Options beyond the common ones: {@code io} = {@code auto} (default), {@code epoll}, {@code
 * nio}, or {@code jdk}: JDK sockets with a reader thread per connection instead of Netty's event
 * loops, where a caller reads its own answer and handlers run on the thread that read their call
 * ({@link JdkTcp}). Either end may use either engine: the framing is the same.
 *
 * <p>Liveness: a peer process that dies is noticed at once (its kernel closes or resets the socket);
 * a peer host that vanishes is noticed by TCP keepalive, on the kernel's schedule.
 */
public final class TcpTransportProvider implements TransportProvider {
  private static final Set<Capability> CAPABILITIES = Set.of(Capability.CROSS_HOST);

  @Override
  public String name() {
    return "tcp";
  }

  @Override
  public Set<String> schemes() {
    return Set.of("tcp");
  }

  @Override
  public String description() {
    String engines = "; io=jdk: JDK sockets, no event loop, inline receive (io=auto|epoll|nio|jdk)";
    return (Epoll.isAvailable()
        ? "TCP over Netty epoll (native)"
        : "TCP over Netty NIO (epoll unavailable: " + Epoll.unavailabilityCause().getMessage() + ")") + engines;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public Set<Capability> capabilities(TransportOptions options) {
    return TcpSettings.of(options).jdk() ? JdkTcp.CAPABILITIES : CAPABILITIES;
  }

  @Override
  public Set<String> supportedOptions() {
    return TcpSettings.OPTIONS;
  }

  @Override
  public java.util.List<String> optionChoices(String option) {
    return option.equals(TcpEventLoops.IO_OPTION) ? TcpEventLoops.CHOICES : java.util.List.of();
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
  public java.util.List<Target> loopbackTargets(java.nio.file.Path scratchDir) {
    return java.util.List.of(Target.parse("tcp://127.0.0.1:0"));
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    TcpSettings settings = TcpSettings.of(options);
    Target.HostPort hp = target.hostPort(-1);
    InetSocketAddress address = new InetSocketAddress(resolve(target, hp), hp.port());
    return settings.jdk() ? JdkTcpListener.bind(target, address, options) : TcpListener.bind(target, address, settings);
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    TcpSettings settings = TcpSettings.of(options);
    Target.HostPort hp = target.hostPort(-1);
    if (hp.port() == 0) {
      throw new IllegalArgumentException("target '" + target + "': cannot connect to port 0");
    }
    InetSocketAddress address = new InetSocketAddress(resolve(target, hp), hp.port());
    if (settings.jdk()) {
      return JdkTcp.connect(target, address, settings, options);
    }
    long timeoutMillis = settings.connectTimeout().toMillis();
    AtomicReference<TcpConnection> connection = new AtomicReference<>();
    Bootstrap b =
        new Bootstrap()
            .group(settings.loops().group())
            .channel(settings.loops().channelClass())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.TCP_NODELAY, true)
            .option(ChannelOption.SO_KEEPALIVE, true)
            .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .option(ChannelOption.WRITE_BUFFER_WATER_MARK, settings.waterMark())
            .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeoutMillis))
            .handler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    connection.set(TcpConnection.install(ch, settings.maxMessageSize(), settings.linger()));
                  }
                });
    ChannelFuture f = b.connect(address);
    boolean done;
    try {
      // Netty enforces CONNECT_TIMEOUT_MILLIS itself; the extra second only guards against a
      // future that never completes.
      done = f.await(timeoutMillis + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      f.channel().close();
      Thread.currentThread().interrupt();
      throw new IOException("tcp: interrupted while connecting to " + target, e);
    }
    if (!done || f.cause() instanceof io.netty.channel.ConnectTimeoutException) {
      f.channel().close();
      throw connectTimedOut(target, settings, f.cause());
    }
    if (!f.isSuccess()) {
      f.channel().close();
      throw connectFailed(target, f.cause());
    }
    return connection.get();
  }

  /** A connect that did not complete within {@code connectTimeout}, saying how to wait longer. */
  static SocketTimeoutException connectTimedOut(Target target, TcpSettings settings, Throwable cause) {
    SocketTimeoutException e = new SocketTimeoutException(
        "tcp: cannot connect to " + target + " within connectTimeout " + settings.connectTimeout()
            + " (set the transport option connectTimeout to wait longer)");
    e.initCause(cause);
    return e;
  }

  /** A failed connect, naming the target; a refused one stays a {@link ConnectException}. */
  static IOException connectFailed(Target target, Throwable cause) {
    String why = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    IOException e = cause instanceof ConnectException
        ? new ConnectException("tcp: cannot connect to " + target + ": " + why)
        : new IOException("tcp: cannot connect to " + target + ": " + why);
    e.initCause(cause);
    return e;
  }

  private static InetAddress resolve(Target target, Target.HostPort hp) throws UnknownHostException {
    try {
      return InetAddress.getByName(hp.host());
    } catch (UnknownHostException e) {
      UnknownHostException u = new UnknownHostException("tcp: cannot resolve host '" + hp.host() + "' of target " + target);
      u.initCause(e);
      throw u;
    }
  }

  @Override
  public String toString() {
    return "TcpTransportProvider[" + description() + "]";
  }
}
