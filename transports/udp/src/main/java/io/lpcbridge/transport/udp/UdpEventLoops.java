package io.lpcbridge.transport.udp;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The event loops udp sockets run on: one shared group per I/O kind, created on first use, of
 * daemon threads (2 per core, Netty's default), never shut down. A listener's socket and every
 * connection it accepted share its event loop; each client connection has its own socket, on one of
 * the group's loops.
 */
enum UdpEventLoops {
  EPOLL(EpollDatagramChannel.class, EpollIoHandler::newFactory),
  NIO(NioDatagramChannel.class, NioIoHandler::newFactory);

  /**
   * Transport option choosing the I/O kind: {@code auto} (epoll when available), {@code epoll},
   * {@code nio}, or {@code jdk} (no event loop: see {@link JdkUdpSocket}).
   */
  static final String IO_OPTION = "io";

  /** The {@link #IO_OPTION} value that leaves Netty for {@link JdkUdpSocket}. */
  static final String JDK = "jdk";

  /** What {@link #IO_OPTION} takes, the default first. */
  static final List<String> CHOICES = List.of("auto", "epoll", "nio", JDK);

  private final Class<? extends DatagramChannel> channelClass;
  private final Supplier<IoHandlerFactory> ioHandlerFactory;
  private volatile EventLoopGroup group;

  UdpEventLoops(Class<? extends DatagramChannel> channelClass, Supplier<IoHandlerFactory> ioHandlerFactory) {
    this.channelClass = channelClass;
    this.ioHandlerFactory = ioHandlerFactory;
  }

  /** The kind {@code auto} picks here. */
  static UdpEventLoops preferred() {
    return Epoll.isAvailable() ? EPOLL : NIO;
  }

  /**
   * The kind the {@code io} option names.
   *
   * @throws IllegalArgumentException for an unknown value, or {@code epoll} where epoll is not
   *     available (naming why)
   */
  static UdpEventLoops forOption(String value) {
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
          String prefix = "lpcbridge-udp-" + name().toLowerCase(Locale.ROOT);
          group = g = new MultiThreadIoEventLoopGroup(0, new DefaultThreadFactory(prefix, true), ioHandlerFactory.get());
        }
      }
    }
    return g;
  }

  Class<? extends DatagramChannel> channelClass() {
    return channelClass;
  }
}
