package io.lpcbridge.transport.udp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * {@link UdpSocket} on a Netty datagram channel (epoll, or NIO where epoll is missing): the loop is
 * the channel's event loop. Writes are queued and flushed once at the end of a read batch, so the
 * replies to a burst of datagrams leave together.
 */
final class NettyUdpSocket extends ChannelInboundHandlerAdapter implements UdpSocket {
  private final UdpSettings settings;
  private final Handler handler;
  private Channel channel;

  // Event loop only.
  private boolean inRead;
  private boolean needsFlush;

  private NettyUdpSocket(UdpSettings settings, Handler handler) {
    this.settings = settings;
    this.handler = handler;
  }

  private static Bootstrap bootstrap(UdpSettings settings, NettyUdpSocket socket) {
    return new Bootstrap()
        .group(settings.loops().group())
        .channel(settings.loops().channelClass())
        .option(ChannelOption.SO_RCVBUF, UdpSettings.SOCKET_BUFFER)
        .option(ChannelOption.SO_SNDBUF, UdpSettings.SOCKET_BUFFER)
        .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(65_536))
        .handler(socket);
  }

  static NettyUdpSocket connect(UdpSettings settings, InetSocketAddress remote, Handler handler, String what) throws IOException {
    NettyUdpSocket socket = new NettyUdpSocket(settings, handler);
    ChannelFuture f = bootstrap(settings, socket).connect(remote);
    try {
      if (!f.await(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS) || !f.isSuccess()) {
        f.channel().close();
        Throwable cause = f.cause();
        IOException e = new IOException("udp: cannot open a socket to " + what + ": "
            + (cause == null ? "did not complete within connectTimeout" : describe(cause)));
        e.initCause(cause);
        throw e;
      }
    } catch (InterruptedException e) {
      f.channel().close();
      Thread.currentThread().interrupt();
      throw new IOException("udp: interrupted while connecting to " + what, e);
    }
    socket.channel = f.channel();
    return socket;
  }

  static NettyUdpSocket bind(UdpSettings settings, InetSocketAddress address, Handler handler, String what) throws IOException {
    NettyUdpSocket socket = new NettyUdpSocket(settings, handler);
    ChannelFuture f = bootstrap(settings, socket).option(ChannelOption.AUTO_READ, false).bind(address);
    if (!f.awaitUninterruptibly(settings.connectTimeout().toMillis(), TimeUnit.MILLISECONDS) || !f.isSuccess()) {
      f.channel().close();
      Throwable cause = f.cause();
      BindException e = new BindException(
          "udp: cannot listen on " + what + ": " + (cause == null ? "bind did not complete" : cause.getMessage()));
      e.initCause(cause);
      throw e;
    }
    socket.channel = f.channel();
    return socket;
  }

  /** A cause's message, or its kind when it has none (netty's socket errors can come without one). */
  static String describe(Throwable cause) {
    String m = cause.getMessage();
    String kind = cause.getClass().getSimpleName();
    if (m == null || m.isBlank()) {
      return kind;
    }
    return m.startsWith("null") ? kind + m.substring(4) : m;
  }

  // ------------------------------------------------------------------ the loop

  @Override
  public boolean inLoop() {
    return channel.eventLoop().inEventLoop();
  }

  @Override
  public void execute(Runnable task) {
    channel.eventLoop().execute(task);
  }

  @Override
  public void executeAndWait(Runnable task, long timeoutMillis) {
    if (inLoop()) {
      task.run();
    } else {
      channel.eventLoop().submit(task).awaitUninterruptibly(timeoutMillis, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public Timer schedule(Runnable task, long delayNanos) {
    ScheduledFuture<?> f = channel.eventLoop().schedule(task, delayNanos, TimeUnit.NANOSECONDS);
    return () -> f.cancel(false);
  }

  @Override
  public void upcall(Runnable call) {
    call.run();
  }

  @Override
  public boolean defersUpcalls() {
    return false;
  }

  @Override
  public boolean inReadBatch() {
    return inRead;
  }

  // ------------------------------------------------------------------ the socket

  @Override
  public ByteBuf allocate(int capacity) {
    return channel.alloc().directBuffer(capacity);
  }

  @Override
  public void write(ByteBuf datagram, InetSocketAddress to) {
    channel.write(to == null ? datagram : new DatagramPacket(datagram, to), channel.voidPromise());
    needsFlush = true;
  }

  @Override
  public void flush() {
    if (needsFlush && !inRead) {
      needsFlush = false;
      channel.flush();
    }
  }

  @Override
  public void startReading() {
    channel.config().setAutoRead(true);
  }

  @Override
  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  @Override
  public void close() {
    channel.close();
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void whenClosed(Runnable action) {
    channel.closeFuture().addListener(f -> action.run());
  }

  @Override
  public boolean awaitClosed(long timeoutMillis) {
    if (!channel.closeFuture().awaitUninterruptibly(timeoutMillis, TimeUnit.MILLISECONDS)) {
      return false;
    }
    if (settings.loops() == UdpEventLoops.NIO && !channel.eventLoop().inEventLoop()) {
      // The JDK closes a selector-registered socket only when the selector next runs; wait for that.
      channel.eventLoop().schedule(() -> {}, 10, TimeUnit.MILLISECONDS).awaitUninterruptibly(timeoutMillis, TimeUnit.MILLISECONDS);
    }
    return true;
  }

  // ------------------------------------------------------------------ Netty callbacks (event loop)

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    DatagramPacket packet = (DatagramPacket) msg;
    inRead = true;
    try {
      handler.onDatagram(packet.content(), packet.sender(), System.nanoTime());
    } finally {
      packet.release();
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    inRead = false;
    handler.onReadComplete();
    flush();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    handler.onError(cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    handler.onClosed();
  }
}
