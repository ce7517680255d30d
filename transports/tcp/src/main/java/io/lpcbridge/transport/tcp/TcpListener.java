package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A bound tcp server socket. It is bound with auto-read off, so the kernel completes handshakes
 * into its backlog but nothing is accepted until {@link #start}; accepted channels also start with
 * auto-read off and begin reading when their connection is started.
 */
final class TcpListener implements Listener {
  private static final long CLOSE_WAIT_SECONDS = 5;

  private final Channel serverChannel;
  private final Target localTarget;
  private final TcpEventLoops loops;
  /** Guarded by {@code this}. */
  private Acceptor acceptor;
  /** Guarded by {@code this}. */
  private boolean closed;

  private TcpListener(Channel serverChannel, Target localTarget, TcpEventLoops loops) {
    this.serverChannel = serverChannel;
    this.localTarget = localTarget;
    this.loops = loops;
  }

  static TcpListener bind(Target target, InetSocketAddress address, TcpSettings settings) throws IOException {
    // Set before accepting starts: accepting waits for start(), which needs the listener.
    AtomicReference<TcpListener> self = new AtomicReference<>();
    ServerBootstrap b =
        new ServerBootstrap()
            .group(settings.loops().group())
            .channel(settings.loops().serverChannelClass())
            .option(ChannelOption.AUTO_READ, false)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childOption(ChannelOption.SO_KEEPALIVE, true)
            .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
            .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, settings.waterMark())
            .childHandler(
                new ChannelInitializer<Channel>() {
                  @Override
                  protected void initChannel(Channel ch) {
                    TcpConnection c = TcpConnection.install(ch, settings.maxMessageSize(), settings.linger());
                    // Hand over on the server channel's event loop: one connection at a time.
                    ch.parent().eventLoop().execute(() -> self.get().deliver(c));
                  }
                });
    ChannelFuture f = b.bind(address);
    if (!f.awaitUninterruptibly(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS) || !f.isSuccess()) {
      f.channel().close();
      Throwable cause = f.cause();
      BindException e = new BindException(
          "tcp: cannot listen on " + target + ": " + (cause == null ? "bind did not complete" : cause.getMessage()));
      e.initCause(cause);
      throw e;
    }
    int port = ((InetSocketAddress) f.channel().localAddress()).getPort();
    Target.HostPort requested = target.hostPort(-1);
    Target local = Target.of(target.scheme(), "//" + new Target.HostPort(requested.host(), port));
    TcpListener listener = new TcpListener(f.channel(), local, settings.loops());
    self.set(listener);
    f.channel().closeFuture().addListener(cf -> listener.onServerChannelClosed());
    return listener;
  }

  @Override
  public Target localTarget() {
    return localTarget;
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("listener on " + localTarget + " is closed");
      }
      if (this.acceptor != null) {
        throw new IllegalStateException("start() called twice on the listener on " + localTarget);
      }
      this.acceptor = acceptor;
    }
    serverChannel.config().setAutoRead(true);
  }

  private void deliver(TcpConnection connection) {
    Acceptor a;
    synchronized (this) {
      a = acceptor;
    }
    try {
      a.onConnection(connection);
    } catch (RuntimeException e) {
      connection.close();
    }
  }

  private void onServerChannelClosed() {
    Acceptor a;
    synchronized (this) {
      if (closed || acceptor == null) {
        return;
      }
      a = acceptor;
    }
    a.onListenerFailed(new IOException("tcp: the listening socket on " + localTarget + " closed unexpectedly"));
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    ChannelFuture f = serverChannel.close();
    if (serverChannel.eventLoop().inEventLoop()) {
      return; // Never wait on the event loop itself.
    }
    // Wait so that a connect right after close() is refused.
    f.awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    if (loops == TcpEventLoops.NIO) {
      // The JDK defers closing a selector-registered channel's socket until the selector next
      // processes cancelled keys; until then the kernel still completes handshakes. A task
      // scheduled for later runs only after the event loop has selected again.
      serverChannel.eventLoop().schedule(() -> {}, 10, TimeUnit.MILLISECONDS)
          .awaitUninterruptibly(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Override
  public String toString() {
    return "tcp listener on " + localTarget;
  }
}
