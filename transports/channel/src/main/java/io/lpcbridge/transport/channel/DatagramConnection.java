package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.HandlerCallbacks;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import io.lpcbridge.transport.ReadRole;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A {@link Connection} over a {@link DatagramIo}: messages cut into fragments ({@link Datagrams}),
 * written by the sending thread ({@link DatagramWriter}), reassembled and delivered by one reader
 * thread per connection, as in {@link StreamConnection}. As there, a thread waiting for a reply can
 * take the reading over ({@link #receiveInline}, a {@link ReadRole}); it also sends the keepalive
 * probes while it waits.
 *
 * <h2>Liveness</h2>
 *
 * A datagram channel has no end-of-file. An orderly close sends {@link Datagrams#BYE}; a peer that
 * dies is noticed by the channel where it can tell ({@link DatagramIo#PEER_GONE}: a message queue
 * polls the peer's pidfd) and otherwise by probing: after {@code keepAlive} with nothing received
 * the reader sends a {@link Datagrams#PING}, and a Unix datagram socket refuses it at once
 * ({@code ECONNREFUSED}) when the peer's socket is gone.
 *
 * <h2>Closing</h2>
 *
 * As in {@link StreamConnection}: {@code close()} wakes the reader thread, which sends what is
 * queued and then BYE (for at most the linger time), closes the channel and calls {@code
 * onClosed} once, after the last {@code onMessage}. After a failure (a protocol error, a handler
 * that threw) it drops the queue and makes one attempt to send BYE, so the peer does not wait for
 * a probe to learn of it.
 */
final class DatagramConnection implements Connection {
  private static final System.Logger LOG = System.getLogger(DatagramConnection.class.getName());

  private static final int OPEN = 0;
  private static final int CLOSING = 1;
  private static final int CLOSED = 2;

  private final DatagramIo io;
  private final DatagramWriter writer;
  private final DatagramDecoder decoder;
  private final ByteBuffer receiveBuffer;
  private final int maxMessageSize;
  private final Duration linger;
  private final long keepAliveNanos;
  private final long readyTimeoutNanos;
  private final DatagramConnections.Settings settings;

  private final Object lifecycleLock = new Object();
  /** Written under lifecycleLock. */
  private volatile int state = OPEN;
  /** Set once, under lifecycleLock. */
  private volatile MessageHandler handler;

  private final HandlerCallbacks callbacks = new HandlerCallbacks(this);

  /** Who reads: the reader thread, or a thread in receiveInline. */
  private final ReadRole role = new ReadRole();
  /** How an inline receiver found the connection ending ({@link #ORDERLY} for BYE); fails it through the reader. */
  private volatile Throwable ending;
  /** A BYE was received: the connection ends in order. */
  private static final Throwable ORDERLY = new ByeReceived();

  // The holder of the role only (the lock orders their accesses), set before the handler is.
  /** The peer has sent READY (or none is awaited). */
  private boolean peerReady;
  private long lastHeard;
  private long lastProbe;
  private long readyDeadline;

  DatagramConnection(DatagramIo io, TransportOptions options, DatagramConnections.Settings settings) {
    this.io = io;
    this.settings = settings;
    this.maxMessageSize = options.maxMessageSize();
    this.linger = options.linger();
    this.keepAliveNanos = settings.keepAlive().toNanos();
    this.readyTimeoutNanos = options.connectTimeout().toNanos();
    this.peerReady = !settings.awaitPeerReady();
    this.writer =
        new DatagramWriter(io, options.writeHighWaterMark(), settings.awaitPeerReady(), io::wakeup, this::deliverWritable);
    this.decoder = new DatagramDecoder(maxMessageSize);
    this.receiveBuffer = ByteBuffer.allocateDirect(io.maxDatagramSize() + 1);
  }

  @Override
  public void start(MessageHandler messageHandler) {
    Objects.requireNonNull(messageHandler, "handler");
    synchronized (lifecycleLock) {
      if (handler != null) {
        throw new IllegalStateException("start() was already called on " + this);
      }
      lastHeard = System.nanoTime();
      lastProbe = lastHeard;
      readyDeadline = lastHeard + readyTimeoutNanos;
      handler = messageHandler;
    }
    role.startReader(settings.transportName() + " reader " + settings.remoteAddress(), this::runReader);
  }

  @Override
  public boolean send(ByteBuffer message) {
    int size = message.remaining();
    if (size > maxMessageSize) {
      throw new MessageTooLargeException(size, maxMessageSize);
    }
    return state == OPEN && writer.send(message);
  }

  @Override
  public boolean isWritable() {
    return state == OPEN && writer.isWritable();
  }

  @Override
  public void close() {
    boolean started;
    synchronized (lifecycleLock) {
      if (state != OPEN) {
        return;
      }
      started = handler != null;
      state = started ? CLOSING : CLOSED;
    }
    if (started) {
      io.wakeup();
      role.wake(() -> {});
    } else {
      writer.abandon(true);
      closeIo();
    }
  }

  @Override
  public boolean isOpen() {
    return state == OPEN;
  }

  @Override
  public int maxMessageSize() {
    return maxMessageSize;
  }

  @Override
  public Set<Capability> capabilities() {
    return settings.capabilities();
  }

  @Override
  public String localAddress() {
    return settings.localAddress();
  }

  @Override
  public String remoteAddress() {
    return settings.remoteAddress();
  }

  @Override
  public String toString() {
    return settings.transportName() + " connection " + settings.localAddress() + " <-> " + settings.remoteAddress();
  }

  /** What one received datagram meant for the reader loop. */
  private enum Received {
    MORE,
    BYE
  }

  private void runReader() {
    Throwable cause;
    if (state == CLOSED) {
      cause = null;
    } else {
      boolean orderly = false;
      // The role is held to the end, so that no inline receiver reads a closed channel.
      role.lock();
      try {
        try {
          cause = readUntilDone();
          orderly = cause == null;
        } catch (Throwable t) {
          cause = t;
        }
        if (!role.endDeferral()) {
          return; // replaced while running deferred work: the new reader thread carries on
        }
        writer.abandon(!orderly && !(cause instanceof PeerGoneException));
        synchronized (lifecycleLock) {
          state = CLOSED;
        }
        closeIo();
      } finally {
        role.unlockIfHeld();
      }
    }
    deliverClosed(cause);
  }

  /** The marker {@link #ORDERLY}: never thrown, never reported. */
  private static final class ByeReceived extends Throwable {
    private static final long serialVersionUID = 1L;

    ByeReceived() {
      super("BYE received", null, false, false);
    }
  }

  /** The channel reported the peer dead: no BYE to send. */
  private static final class PeerGoneException extends IOException {
    private static final long serialVersionUID = 1L;

    PeerGoneException(String message) {
      super(message);
    }
  }

  /** Reads and delivers until the connection ends. Called holding the read role once. */
  private Throwable readUntilDone() throws IOException {
    MessageHandler h = handler;
    while (true) {
      IOException failure = writer.failure();
      if (failure != null) {
        return failure;
      }
      Throwable end = ending;
      if (end != null) {
        return end == ORDERLY ? null : end;
      }
      if (state != OPEN) {
        return linger(h);
      }
      if (role.readerShouldStandAside()) {
        role.standAside(this::readable);
        continue;
      }
      end = step(h, 0);
      if (end != null) {
        return end == ORDERLY ? null : end;
      }
      if (!role.runDeferred()) {
        return null;
      }
    }
  }

  /**
   * One datagram received, or one wait (at most {@code maxWaitNanos} if positive, and never past
   * the next keepalive probe or the handshake's deadline). Called by the holder of the read role.
   *
   * @return null to go on; otherwise how the connection ends: {@link #ORDERLY}, or the cause
   */
  private Throwable step(MessageHandler h, long maxWaitNanos) throws IOException {
    int n = io.receive(receiveBuffer.clear());
    if (n >= 0) {
      lastHeard = System.nanoTime();
      if (receive(n, h) == Received.BYE) {
        return ORDERLY;
      }
      if (writer.isBlocked()) {
        writer.flush();
      }
      return null;
    }
    long now = System.nanoTime();
    long wait = 0;
    if (keepAliveNanos > 0) {
      wait = Math.max(1, Math.max(lastHeard, lastProbe) + keepAliveNanos - now);
    }
    if (!peerReady) {
      if (now - readyDeadline >= 0) {
        return new IOException(
            "the peer " + settings.remoteAddress() + " did not finish the handshake (no READY) within connectTimeout="
                + TimeUnit.NANOSECONDS.toMillis(readyTimeoutNanos) + "ms");
      }
      wait = wait == 0 ? readyDeadline - now : Math.min(wait, readyDeadline - now);
    }
    if (maxWaitNanos > 0) {
      wait = wait == 0 ? maxWaitNanos : Math.min(wait, maxWaitNanos);
    }
    long waitMillis = wait == 0 ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait + 999_999));
    int ready = io.await(true, writer.isBlocked(), waitMillis);
    // What a dead peer sent before it died is still delivered: gone only once drained.
    if ((ready & DatagramIo.PEER_GONE) != 0 && (ready & DatagramIo.READABLE) == 0) {
      return new PeerGoneException(io.peerGoneReason());
    }
    if ((ready & DatagramIo.WRITABLE) != 0) {
      writer.flush();
    }
    if (ready == 0 && keepAliveNanos > 0) {
      now = System.nanoTime();
      if (now - Math.max(lastHeard, lastProbe) >= keepAliveNanos) {
        lastProbe = now;
        try {
          writer.ping();
        } catch (IOException e) {
          return new PeerGoneException(e.getMessage());
        }
      }
    }
    return null;
  }

  /** Whether reading may go on: open, and neither ended nor failed. */
  private boolean readable() {
    return state == OPEN && ending == null && writer.failure() == null;
  }

  @Override
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    MessageHandler h = handler;
    if (h == null) {
      return false;
    }
    return role.receiveInline(
        done,
        timeoutNanos,
        this::readable,
        io::wakeup,
        maxWait -> {
          Throwable end = step(h, maxWait);
          if (end != null) {
            ending = end;
            return false;
          }
          return true;
        },
        t -> ending = t);
  }

  @Override
  public void wakeReceivers() {
    role.wake(io::wakeup);
  }

  private Received receive(int n, MessageHandler h) throws ProtocolException {
    if (n > io.maxDatagramSize()) {
      throw new ProtocolException(
          "received a datagram over the largest this connection uses (" + io.maxDatagramSize() + " bytes)");
    }
    if (n < Datagrams.HEADER_BYTES) {
      throw new ProtocolException("received a datagram of " + n + " bytes, shorter than the " + Datagrams.HEADER_BYTES + "-byte header");
    }
    ByteBuffer datagram = receiveBuffer.flip();
    int type = datagram.get(Datagrams.TYPE_OFFSET);
    if (!peerReady) {
      if (type != Datagrams.READY) {
        throw new ProtocolException("expected READY as the peer's first datagram, got " + Datagrams.typeName(type));
      }
      peerReady = true;
      writer.ungate();
      return Received.MORE;
    }
    switch (type) {
      case Datagrams.DATA -> decoder.data(datagram, h);
      case Datagrams.PING, Datagrams.READY -> {
        // A probe, or a repeated READY: nothing to do.
      }
      case Datagrams.BYE -> {
        if (decoder.pending() > 0) {
          throw new ProtocolException("the peer said BYE in the middle of a message (" + decoder.pending() + " bytes arrived)");
        }
        return Received.BYE;
      }
      default -> throw new ProtocolException("received a datagram of unknown " + Datagrams.typeName(type));
    }
    return Received.MORE;
  }

  /** After close(): sends what is queued and BYE for at most the linger time, still delivering. */
  private Throwable linger(MessageHandler h) throws IOException {
    role.endDeferral(); // what lingering delivers goes to the pool
    long deadline = System.nanoTime() + linger.toNanos();
    boolean peerDone = false;
    while (true) {
      IOException failure = writer.failure();
      if (failure != null) {
        return failure;
      }
      if (writer.flushAndBye()) {
        return null;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return new IOException(
            "closed with " + writer.queuedBytes() + " bytes still queued for " + settings.remoteAddress()
                + " after waiting linger=" + linger.toMillis() + "ms for the peer to read them; they were dropped"
                + " (raise the transport option linger to wait longer)");
      }
      int ready = io.await(!peerDone, true, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      if ((ready & DatagramIo.PEER_GONE) != 0 && (ready & DatagramIo.READABLE) == 0) {
        return new PeerGoneException(io.peerGoneReason() + " while closing, with " + writer.queuedBytes() + " bytes unsent");
      }
      if ((ready & DatagramIo.READABLE) != 0 && !peerDone) {
        int n = io.receive(receiveBuffer.clear());
        if (n >= 0 && receive(n, h) == Received.BYE) {
          peerDone = true;
        }
      }
    }
  }

  private void closeIo() {
    try {
      io.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "closing " + this, e);
    }
  }

  private void deliverClosed(Throwable cause) {
    callbacks.closed(handler, cause);
  }

  private void deliverWritable() {
    callbacks.writable(handler);
  }
}
