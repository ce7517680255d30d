package io.lpcbridge.transport.tcp;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The event loops tcp connections run on: one shared group per I/O kind, created on first use,
 * of daemon threads (2 per core, Netty's default), never shut down.
 */
enum TcpEventLoops {
  EPOLL(EpollSocketChannel.class, EpollServerSocketChannel.class, EpollIoHandler::newFactory),
  NIO(NioSocketChannel.class, NioServerSocketChannel.class, NioIoHandler::newFactory);

  /**
   * Transport option choosing the I/O kind: {@code auto} (epoll when available), {@code epoll},
   * {@code nio}, or {@code jdk} (no event loop: see {@link JdkTcp}).
   */
  static final String IO_OPTION = "io";

  /** The {@link #IO_OPTION} value that leaves Netty for {@link JdkTcp}. */
  static final String JDK = "jdk";

  /** What {@link #IO_OPTION} takes, the default first. */
  static final java.util.List<String> CHOICES = java.util.List.of("auto", "epoll", "nio", JDK);

  private final Class<? extends Channel> channelClass;
  private final Class<? extends ServerChannel> serverChannelClass;
  private final Supplier<IoHandlerFactory> ioHandlerFactory;
  private volatile EventLoopGroup group;

  TcpEventLoops(
      Class<? extends Channel> channelClass,
      Class<? extends ServerChannel> serverChannelClass,
      Supplier<IoHandlerFactory> ioHandlerFactory) {
    this.channelClass = channelClass;
    this.serverChannelClass = serverChannelClass;
    this.ioHandlerFactory = ioHandlerFactory;
  }

  /** The kind {@code auto} picks here. */
  static TcpEventLoops preferred() {
    return Epoll.isAvailable() ? EPOLL : NIO;
  }

  /**
   * The kind the {@code io} option names.
   *
   * @throws IllegalArgumentException for an unknown value, or {@code epoll} where epoll is not
   *     available (naming why)
   */
  static TcpEventLoops forOption(String value) {
    return switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "auto" -> preferred();
      case "nio" -> NIO;
      case "epoll" -> {
        if (!Epoll.isAvailable()) {
          throw new IllegalArgumentException(
              "transport option io=epoll, but epoll is not available here: "
                  + Epoll.unavailabilityCause().getMessage() + " (use io=nio or io=auto)");
        }
        yield EPOLL;
      }
      default -> throw new IllegalArgumentException(
          "transport option io='" + value + "' is not one of " + String.join(", ", CHOICES));
    };
  }

  EventLoopGroup group() {
    EventLoopGroup g = group;
    if (g == null) {
      synchronized (this) {
        g = group;
        if (g == null) {
          String threadPrefix = "lpcbridge-tcp-" + name().toLowerCase(Locale.ROOT);
          group = g = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory(threadPrefix, true), ioHandlerFactory.get());
        }
      }
    }
    return g;
  }

  Class<? extends Channel> channelClass() {
    return channelClass;
  }

  Class<? extends ServerChannel> serverChannelClass() {
    return serverChannelClass;
  }
}
