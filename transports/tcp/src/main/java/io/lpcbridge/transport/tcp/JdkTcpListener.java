package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A bound tcp server socket for {@code io=jdk} ({@link JdkTcp}), accepting on one platform daemon
 * thread once started. Until then the kernel completes handshakes into the backlog.
 */
final class JdkTcpListener implements Listener {
  private static final System.Logger LOG = System.getLogger(JdkTcpListener.class.getName());
  private static final int BACKLOG = 128;

  private final ServerSocketChannel server;
  private final Target localTarget;
  private final TransportOptions options;
  private final Object lock = new Object();
  /** Guarded by lock. */
  private boolean started;
  /** Written under lock. */
  private volatile boolean closed;

  private JdkTcpListener(ServerSocketChannel server, Target localTarget, TransportOptions options) {
    this.server = server;
    this.localTarget = localTarget;
    this.options = options;
  }

  static JdkTcpListener bind(Target target, InetSocketAddress address, TransportOptions options) throws IOException {
    ServerSocketChannel server = ServerSocketChannel.open();
    try {
      server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      server.bind(address, BACKLOG);
    } catch (IOException e) {
      server.close();
      BindException b = new BindException("tcp: cannot listen on " + target + ": " + e.getMessage());
      b.initCause(e);
      throw b;
    }
    int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
    Target local = Target.of(target.scheme(), "//" + new Target.HostPort(target.hostPort(-1).host(), port));
    return new JdkTcpListener(server, local, options);
  }

  @Override
  public Target localTarget() {
    return localTarget;
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("listener on " + localTarget + " is closed");
      }
      if (started) {
        throw new IllegalStateException("start() called twice on the listener on " + localTarget);
      }
      started = true;
    }
    Thread.ofPlatform().daemon().name("tcp accept " + localTarget).start(() -> acceptLoop(acceptor));
  }

  private void acceptLoop(Acceptor acceptor) {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        if (!closed) {
          fail(acceptor, new IOException("tcp: the listening socket on " + localTarget + " closed unexpectedly", e));
        }
        return;
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          fail(acceptor, new IOException("tcp: the listener on " + localTarget + " stopped accepting: " + e.getMessage(), e));
        }
        return;
      }
      hand(acceptor, channel);
    }
  }

  private void hand(Acceptor acceptor, SocketChannel channel) {
    Connection connection;
    try {
      JdkTcp.configure(channel);
      connection = JdkTcp.wrap(channel, options, null);
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "dropped a connection on " + localTarget + " while setting it up", e);
      try {
        channel.close();
      } catch (IOException ignored) {
        // Already failing.
      }
      return;
    }
    try {
      acceptor.onConnection(connection);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "acceptor threw on a connection on " + localTarget + "; closing it", e);
      connection.close();
    }
  }

  private void fail(Acceptor acceptor, IOException cause) {
    close();
    try {
      acceptor.onListenerFailed(cause);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "onListenerFailed threw", e);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      server.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing the listener on " + localTarget, e);
    }
  }

  @Override
  public String toString() {
    return "tcp listener (io=jdk) on " + localTarget;
  }
}
