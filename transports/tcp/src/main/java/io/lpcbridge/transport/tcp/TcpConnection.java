package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One tcp connection: a Netty channel whose pipeline is {@link FrameDecoder} then this handler.
 *
 * <h2>Sending</h2>
 *
 * {@link #send} copies the message behind a length prefix into a pooled buffer and writes it
 * without flushing; each write is followed by a {@link #flushTask} on the event loop, and only the
 * flush task that finds no later write pending flushes. Netty runs tasks in submission order, so
 * the last of a burst of writes is followed by exactly one flush, and a lone write is flushed at
 * once. Netty counts a write against the channel's water marks when it is submitted, not when the
 * event loop gets to it, so {@link #isWritable()} turns false even while the event loop is busy.
 *
 * <h2>Closing</h2>
 *
 * An orderly close is a half-close each way. The side that closes first flushes what it accepted,
 * shuts down its output (FIN) and keeps reading until the peer's FIN; the other side, on that FIN,
 * flushes what it accepted and closes. Waiting for the peer's FIN before closing the socket keeps
 * the kernel from answering late data with a RST, which could destroy data the peer has not yet
 * read. Either wait is bounded by the linger option.
 *
 * <h2>Threading</h2>
 *
 * Everything below "event loop only" is touched only on the channel's event loop, which is also the
 * thread every {@link MessageHandler} callback runs on.
 */
final class TcpConnection extends ChannelInboundHandlerAdapter implements Connection {
  private static final Set<Capability> CAPABILITIES = Set.of(Capability.CROSS_HOST);

  private final Channel channel;
  private final FrameDecoder decoder;
  private final int maxMessageSize;
  private final Duration linger;
  private final AtomicBoolean started = new AtomicBoolean();
  /** Writes submitted whose flush task has not run yet. */
  private final AtomicInteger unflushed = new AtomicInteger();
  private final Runnable flushTask = this::flushIfLast;

  /**
   * Set once, by {@link #close()}, the peer's FIN, or the channel going inactive. Guarded by {@code
   * this} where it is set, so that no write is submitted after the close task: {@link #send}
   * checks it and submits its write under the same lock.
   */
  private volatile boolean closing;

  // Event loop only.
  private MessageHandler handler;
  private Throwable failure;
  private boolean inputShutdown;
  private boolean outputDone;
  private boolean inactive;
  private boolean closedNotified;
  private ScheduledFuture<?> lingerTimer;

  private TcpConnection(Channel channel, int maxMessageSize, Duration linger) {
    this.channel = channel;
    this.decoder = new FrameDecoder(maxMessageSize);
    this.maxMessageSize = maxMessageSize;
    this.linger = linger;
  }

  /** Makes the connection for {@code channel} and installs its pipeline. Call from initChannel. */
  static TcpConnection install(Channel channel, int maxMessageSize, Duration linger) {
    TcpConnection c = new TcpConnection(channel, maxMessageSize, linger);
    channel.pipeline().addLast("frames", c.decoder).addLast("connection", c);
    return c;
  }

  // ------------------------------------------------------------------ Connection

  @Override
  public void start(MessageHandler handler) {
    Objects.requireNonNull(handler, "handler");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("start() called twice on " + this);
    }
    channel.eventLoop().execute(
        () -> {
          this.handler = handler;
          if (inactive) {
            notifyClosed();
          } else {
            // Reading starts only now: nothing can arrive before there is a handler for it.
            channel.config().setAutoRead(true);
          }
        });
  }

  @Override
  public boolean send(ByteBuffer message) {
    int length = message.remaining();
    if (length > maxMessageSize) {
      throw new MessageTooLargeException(length, maxMessageSize);
    }
    if (closing) {
      return false;
    }
    ByteBuf frame = channel.alloc().directBuffer(FrameDecoder.HEADER_BYTES + length);
    frame.writeInt(length).writeBytes(message.duplicate());
    synchronized (this) {
      if (closing) {
        frame.release();
        return false;
      }
      unflushed.incrementAndGet();
      channel.write(frame, channel.voidPromise());
    }
    channel.eventLoop().execute(flushTask);
    return true;
  }

  private void flushIfLast() {
    if (unflushed.decrementAndGet() == 0) {
      channel.flush();
    }
  }

  @Override
  public boolean isWritable() {
    return !closing && channel.isWritable();
  }

  @Override
  public void close() {
    if (!markClosing()) {
      return;
    }
    // Runs after every write accepted before markClosing(): they were submitted first.
    channel.eventLoop().execute(this::closeGracefully);
  }

  /** Sets {@link #closing}; true if this call set it. */
  private synchronized boolean markClosing() {
    if (closing) {
      return false;
    }
    closing = true;
    return true;
  }

  @Override
  public boolean isOpen() {
    return !closing;
  }

  @Override
  public int maxMessageSize() {
    return maxMessageSize;
  }

  @Override
  public Set<Capability> capabilities() {
    return CAPABILITIES;
  }

  @Override
  public String localAddress() {
    return format(channel.localAddress());
  }

  @Override
  public String remoteAddress() {
    return format(channel.remoteAddress());
  }

  private static String format(SocketAddress a) {
    if (a instanceof InetSocketAddress isa && isa.getAddress() != null) {
      String host = isa.getAddress().getHostAddress();
      return "tcp://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + isa.getPort();
    }
    return "tcp://" + a;
  }

  @Override
  public String toString() {
    return "tcp connection " + localAddress() + " -> " + remoteAddress();
  }

  // ------------------------------------------------------------------ closing (event loop)

  /** This side closes first: flush, then FIN, then wait for the peer's FIN. */
  private void closeGracefully() {
    if (inactive) {
      return;
    }
    startLingerTimer();
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(
        f -> {
          if (!f.isSuccess()) {
            fail(f.cause());
          } else if (inputShutdown) {
            finishOutput();
          } else {
            ((DuplexChannel) channel).shutdownOutput().addListener(
                s -> {
                  if (s.isSuccess()) {
                    finishOutput();
                  } else {
                    fail(s.cause());
                  }
                });
          }
        });
  }

  /** The peer sent FIN: it will send nothing more. */
  private void onPeerFinished() {
    inputShutdown = true;
    if (decoder.truncation() != null) {
      markClosing();
      fail(decoder.truncation());
      return;
    }
    if (markClosing()) {
      // The peer closed first: flush what this side accepted, then close.
      startLingerTimer();
      channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(
          f -> {
            if (f.isSuccess()) {
              finishOutput();
            } else {
              fail(f.cause());
            }
          });
    } else if (outputDone) {
      channel.close();
    }
    // Otherwise closeGracefully() is under way and closes once its flush completes.
  }

  private void finishOutput() {
    outputDone = true;
    if (inputShutdown) {
      channel.close();
    }
  }

  private void startLingerTimer() {
    if (lingerTimer == null && !inactive) {
      lingerTimer = channel.eventLoop().schedule(this::lingerExpired, linger.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  private void lingerExpired() {
    if (!outputDone) {
      fail(new IOException(
          "linger " + linger + " expired before queued messages were written to " + remoteAddress()
              + "; connection closed anyway (raise the transport option linger to wait longer)"));
    } else {
      channel.close();
    }
  }

  private void fail(Throwable cause) {
    if (failure == null && !inactive) {
      failure = cause;
    }
    channel.close();
  }

  private void notifyClosed() {
    if (closedNotified || handler == null) {
      return;
    }
    closedNotified = true;
    handler.onClosed(failure);
  }

  // ------------------------------------------------------------------ Netty callbacks (event loop)

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf frame = (ByteBuf) msg;
    try {
      if (closedNotified || failure != null) {
        return; // Failed: frames still in this read batch are dropped.
      }
      // A contiguous frame is handed over as a view of the read buffer; only a frame spread over
      // several buffers is copied.
      ByteBuffer view = frame.nioBufferCount() == 1 ? frame.nioBuffer() : copy(frame);
      handler.onMessage(view);
    } catch (RuntimeException | Error e) {
      // The SPI: a throwing handler fails the connection and gets its exception in onClosed.
      fail(e);
    } finally {
      frame.release();
    }
  }

  private static ByteBuffer copy(ByteBuf frame) {
    ByteBuffer b = ByteBuffer.allocate(frame.readableBytes());
    frame.getBytes(frame.readerIndex(), b);
    return b.flip();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof ChannelInputShutdownEvent) {
      onPeerFinished();
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (channel.isWritable() && !closing && handler != null) {
      handler.onWritable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    fail(cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    markClosing();
    if (failure == null && decoder.truncation() != null) {
      failure = decoder.truncation();
    }
    inactive = true;
    if (lingerTimer != null) {
      lingerTimer.cancel(false);
    }
    notifyClosed();
    ctx.fireChannelInactive();
  }
}
