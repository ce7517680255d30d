package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ChannelConnections;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.Set;

/**
 * tcp with {@code io=jdk}: JDK {@link SocketChannel}s under the stream engine the local socket
 * transports share ({@link ChannelConnections}), with the same 4-byte length framing as on Netty, so
 * either end may use either engine.
 *
 * <p>Why a second engine: on Netty a connection's socket belongs to an event loop, so the answer to
 * a blocking call is read there and handed to the caller, and a server's handler is handed from
 * the event loop to a pool: about four thread wake-ups per unary call, client and server together,
 * where the socket itself needs two. Here each connection has a reader thread of its own, a caller
 * may read its own answer ({@link Capability#INLINE_RECEIVE}) and handlers run on the thread that
 * read their call (docs/wire-protocol.md §8). The price is a thread per connection, where Netty
 * serves thousands of connections from a few event loops: the default stays Netty.
 */
final class JdkTcp {
  static final Set<Capability> CAPABILITIES = Set.of(Capability.CROSS_HOST, Capability.INLINE_RECEIVE);

  private JdkTcp() {}

  /** Connects, blocking for at most {@code connectTimeout}; the connection is not started. */
  static Connection connect(Target target, InetSocketAddress address, TcpSettings settings, TransportOptions options) throws IOException {
    SocketChannel channel = SocketChannel.open();
    try {
      configure(channel);
      channel.socket().connect(address, (int) Math.clamp(settings.connectTimeout().toMillis(), 1, Integer.MAX_VALUE));
    } catch (SocketTimeoutException e) {
      channel.close();
      throw TcpTransportProvider.connectTimedOut(target, settings, e);
    } catch (IOException e) {
      channel.close();
      throw TcpTransportProvider.connectFailed(target, e);
    } catch (RuntimeException e) {
      channel.close();
      throw e;
    }
    return wrap(channel, options, target.toString());
  }

  /** TCP_NODELAY and SO_KEEPALIVE, as on Netty. */
  static void configure(SocketChannel channel) throws IOException {
    channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    channel.setOption(StandardSocketOptions.SO_KEEPALIVE, true);
  }

  /** A connected channel as a connection, not yet started; the channel is closed if that fails. */
  static Connection wrap(SocketChannel channel, TransportOptions options, String remote) throws IOException {
    String local;
    try {
      local = "tcp://" + hostPort((InetSocketAddress) channel.getLocalAddress());
      if (remote == null) {
        remote = "tcp://" + hostPort((InetSocketAddress) channel.getRemoteAddress());
      }
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return ChannelConnections.create(channel, options, "tcp", local, remote, CAPABILITIES, Optional.empty());
  }

  private static String hostPort(InetSocketAddress a) {
    return new Target.HostPort(a.getAddress().getHostAddress(), a.getPort()).toString();
  }
}
