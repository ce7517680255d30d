package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.AcceptingListener;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/** A bound tcp server socket for {@code io=jdk} ({@link JdkTcp}), accepting on one thread ({@link AcceptingListener}). */
final class JdkTcpListener extends AcceptingListener<SocketChannel> {
  private static final int BACKLOG = 128;

  private final TransportOptions options;

  private JdkTcpListener(ServerSocketChannel server, Target localTarget, TransportOptions options) {
    super(server, localTarget, "tcp accept " + localTarget);
    this.options = options;
  }

  static JdkTcpListener bind(Target target, InetSocketAddress address, TransportOptions options) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    int port;
    try {
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      server.bind(address, BACKLOG);
      port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    } catch (IOException e) {
      server.close();
      BindException b = new BindException("tcp: cannot listen on " + target + ": " + e.getMessage());
      b.initCause(e);
      throw b;
    }
    Target local = Target.of(target.scheme(), "//" + new Target.HostPort(target.hostPort(-1).host(), port));
    return new JdkTcpListener(server, local, options);
  }

  @Override
  protected Connection accepted(SocketChannel channel) throws IOException {
    JdkTcp.configure(channel);
    return JdkTcp.wrap(channel, options, null);
  }

  @Override
  public String toString() {
    return "tcp listener (io=jdk) on " + localTarget();
  }
}
