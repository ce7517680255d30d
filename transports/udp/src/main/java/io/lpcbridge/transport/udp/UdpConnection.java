package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * One udp connection: a {@link ReliableSession} driven in its socket's loop ({@link UdpSocket}), with
 * the {@link Connection} contract on top.
 *
 * <h2>Threading</h2>
 *
 * {@link #send} and {@link #close} run on any thread: they copy the message (or a close marker)
 * into an outbox under {@code this} lock, so a close never overtakes a message accepted before it,
 * and ask the loop to {@link #pump}: on Netty the event loop does it later, with {@code io=jdk} the
 * calling thread does it now under the socket's lock and writes the datagrams itself. The session
 * and the timer are touched only in the loop, and every {@link MessageHandler} callback goes through
 * {@link UdpSocket#upcall}. A send from inside a read batch is pumped at the end of the batch, so a
 * reply leaves with the acknowledgement of what it answers.
 *
 * <h2>Backpressure</h2>
 *
 * Bytes accepted by {@code send} and not yet acknowledged by the peer are counted; past
 * writeHighWaterMark {@link #isWritable()} turns false, and {@code onWritable} follows once
 * acknowledgements bring the count below half of it. A peer that stops reading stops
 * acknowledging, so the count only grows.
 *
 * <h2>Liveness</h2>
 *
 * A peer silent for idleTimeout fails the connection (see {@link ReliableSession}). If the event loop
 * ran the timer more than {@link #STALL_NANOS} late, a handler blocked it, and the idle clock is
 * given slack rather than blaming the peer for datagrams this side did not read.
 */
final class UdpConnection implements Connection {
  static final Set<Capability> CAPABILITIES = Set.of(Capability.CROSS_HOST);
  /** With {@code io=jdk}: a waiting caller reads its own reply. */
  static final Set<Capability> INLINE_CAPABILITIES = Set.of(Capability.CROSS_HOST, Capability.INLINE_RECEIVE);
  private static final Object CLOSE = new Object();
  static final long STALL_NANOS = 200_000_000L;
  private static final long NONE = Long.MAX_VALUE;

  private final DatagramPort port;
  private final UdpSocket socket;
  private final InetSocketAddress peer;
  private final String localAddress;
  private final String remoteAddress;
  private final int maxMessageSize;
  private final int peerMaxMessageSize;
  private final long highWater;
  private final long lowWater;
  private final ReliableSession session;
  private final Counters counters;
  private final long cookieTimestamp;

  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean pumpScheduled = new AtomicBoolean();
  private final AtomicBoolean unwritable = new AtomicBoolean();
  private final AtomicLong unacknowledged = new AtomicLong();
  private final Queue<Object> outbox = new ConcurrentLinkedQueue<>();
  private final Runnable pumpTask = this::runPumpTask;
  /** Set once by close(), the peer's FIN or the end of the session; guarded by {@code this} when set. */
  private volatile boolean closing;

  /** Written once, in the loop; read by send() for onWritable. */
  private volatile MessageHandler handler;
  /** A deferred onMessage threw: the session is being failed, and nothing more is delivered. */
  private volatile boolean handlerFailed;

  // In the loop only.
  private boolean closedBeforeStart;
  private Throwable closedCause;
  private boolean pumpPending;
  private UdpSocket.Timer timer;
  private long timerDeadline = NONE;

  /**
   * @param config the session the handshake settled
   * @param handshakeRtt a round trip measured in the handshake, or 0
   * @param cookieTimestamp the cookie's timestamp (server side), kept to refuse replays after the end
   */
  UdpConnection(
      DatagramPort port, InetSocketAddress peer, String localAddress, ReliableSession.Config config,
      int peerMaxMessageSize, int highWaterMark, Counters counters, long handshakeRtt, long cookieTimestamp) {
    this.port = port;
    this.socket = port.socket();
    this.peer = peer;
    this.localAddress = localAddress;
    this.remoteAddress = UdpTransportProvider.format(peer);
    this.maxMessageSize = config.maxMessageSize();
    this.peerMaxMessageSize = peerMaxMessageSize;
    this.highWater = highWaterMark;
    this.lowWater = highWaterMark / 2;
    this.counters = counters;
    this.cookieTimestamp = cookieTimestamp;
    this.session = new ReliableSession(config, new SessionIo(), new SessionEvents(), counters, System.nanoTime(), handshakeRtt);
  }

  // ------------------------------------------------------------------ Connection

  @Override
  public void start(MessageHandler handler) {
    Objects.requireNonNull(handler, "handler");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("start() called twice on " + this);
    }
    socket.execute(() -> {
      this.handler = handler;
      if (closedBeforeStart) {
        socket.upcall(() -> handler.onClosed(closedCause));
        return;
      }
      session.start(System.nanoTime());
      pump();
      socket.flush();
    });
  }

  @Override
  public boolean send(ByteBuffer message) {
    int length = message.remaining();
    if (length > maxMessageSize) {
      throw new MessageTooLargeException(length, maxMessageSize);
    }
    if (length > peerMaxMessageSize) {
      throw new MessageTooLargeException(length, peerMaxMessageSize);
    }
    if (closing) {
      return false;
    }
    byte[] copy = new byte[length];
    message.duplicate().get(copy);
    synchronized (this) {
      if (closing) {
        return false;
      }
      outbox.add(copy);
    }
    if (length > 0 && unacknowledged.addAndGet(length) > highWater && unwritable.compareAndSet(false, true)) {
      // The event loop may have drained below the low mark before the flag was set: undo, then.
      if (unacknowledged.get() <= lowWater && unwritable.compareAndSet(true, false)) {
        notifyWritable();
      }
    }
    requestPump();
    return true;
  }

  @Override
  public boolean isWritable() {
    return !closing && !unwritable.get();
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
      outbox.add(CLOSE);
    }
    requestPump();
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
    return socket.inlineReceive() ? INLINE_CAPABILITIES : CAPABILITIES;
  }

  @Override
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    return handler != null && socket.receiveInline(done, timeoutNanos);
  }

  @Override
  public void wakeReceivers() {
    socket.wakeReceivers();
  }

  @Override
  public String localAddress() {
    return localAddress;
  }

  @Override
  public String remoteAddress() {
    return remoteAddress;
  }

  @Override
  public String toString() {
    return "udp connection " + localAddress + " -> " + remoteAddress;
  }

  // ------------------------------------------------------------------ for the port (in the loop)

  InetSocketAddress peer() {
    return peer;
  }

  long localCid() {
    return session.config().localCid();
  }

  long peerCid() {
    return session.config().peerCid();
  }

  long cookieTimestamp() {
    return cookieTimestamp;
  }

  Counters counters() {
    return counters;
  }

  /** A datagram for this connection from its peer's address. Pumped at the end of the batch. */
  void onDatagram(ByteBuf datagram, long now) {
    session.onDatagram(datagram, now);
    port.pumpAfterReadBatch(this);
  }

  /** Fails the connection from outside: the socket reported an error. */
  void abort(Throwable cause, boolean sendReset) {
    session.abort(cause, sendReset);
    socket.flush();
  }

  /** Marks that a pump is owed at the end of the read batch; returns false if already marked. */
  boolean markPumpPending() {
    if (pumpPending) {
      return false;
    }
    pumpPending = true;
    return true;
  }

  /** Moves the outbox into the session, sends what the session allows and re-arms the timer. */
  void pump() {
    pumpPending = false;
    long now = System.nanoTime();
    for (Object o; (o = outbox.poll()) != null; ) {
      if (o == CLOSE) {
        session.close(now);
      } else {
        session.offer((byte[]) o);
      }
    }
    session.flush(now);
    armTimer(now);
  }

  private void requestPump() {
    if (socket.inLoop() && socket.inReadBatch()) {
      port.pumpAfterReadBatch(this);
    } else if (pumpScheduled.compareAndSet(false, true)) {
      socket.execute(pumpTask);
    }
  }

  private void runPumpTask() {
    pumpScheduled.set(false);
    pump();
    socket.flush();
  }

  /**
   * Keeps one timer armed for the session's next deadline. A timer due a little early is kept (it
   * re-arms when it fires), so a deadline that creeps forward with every acknowledgement costs no
   * rescheduling; one due much too early is replaced, so a delayed acknowledgement that left on a
   * reply does not wake the event loop for nothing a millisecond later.
   */
  private void armTimer(long now) {
    long deadline = session.nextDeadline();
    if (timer != null) {
      boolean early = deadline == NONE || deadline - timerDeadline > (deadline - now) / 4;
      if (timerDeadline - deadline <= 0 && !early) {
        return;
      }
      timer.cancel();
      timer = null;
      timerDeadline = NONE;
    }
    if (deadline == NONE) {
      return;
    }
    timerDeadline = deadline;
    timer = socket.schedule(this::onTimer, Math.max(0, deadline - now));
  }

  private void onTimer() {
    long now = System.nanoTime();
    long late = now - timerDeadline;
    timer = null;
    timerDeadline = NONE;
    if (late > STALL_NANOS) {
      session.onStall(now);
    }
    session.onTimer(now);
    pump();
    socket.flush();
  }

  private void notifyWritable() {
    MessageHandler h = handler;
    if (h != null && !closing) {
      h.onWritable();
    }
  }

  // ------------------------------------------------------------------ figures

  UdpStats stats() {
    RttEstimator rtt = session.rtt();
    return new UdpStats(
        Counters.toMap(Counters.sumsOf(counters)),
        Duration.ofNanos(rtt.hasSample() ? rtt.smoothedRttNanos() : 0),
        Duration.ofNanos(rtt.hasSample() ? rtt.rtoNanos() : 0),
        session.sender().congestion().window());
  }

  ReliableSession session() {
    return session;
  }

  // ------------------------------------------------------------------ session plumbing

  private final class SessionIo implements ReliableSession.Io {
    @Override
    public ByteBuf allocate(int capacity) {
      return socket.allocate(capacity);
    }

    @Override
    public void send(ByteBuf datagram) {
      port.write(UdpConnection.this, datagram);
    }
  }

  private final class SessionEvents implements ReliableSession.Events {
    @Override
    public void onMessage(ByteBuffer message) {
      if (!socket.defersUpcalls()) {
        handler.onMessage(message);
        return;
      }
      byte[] copy = new byte[message.remaining()];
      message.get(copy);
      socket.upcall(() -> deliver(copy));
    }

    /** A deferred onMessage; a handler that throws fails the session, as it would if called at once. */
    private void deliver(byte[] message) {
      if (handlerFailed) {
        return;
      }
      try {
        handler.onMessage(ByteBuffer.wrap(message));
      } catch (RuntimeException | Error e) {
        handlerFailed = true;
        socket.execute(() -> session.abort(e, true));
      }
    }

    @Override
    public void onAcked(long bytes) {
      if (unacknowledged.addAndGet(-bytes) <= lowWater && unwritable.compareAndSet(true, false)) {
        socket.upcall(UdpConnection.this::notifyWritable);
      }
    }

    @Override
    public void onPeerFinished() {
      close();
    }

    @Override
    public void onClosed(Throwable cause) {
      synchronized (UdpConnection.this) {
        closing = true;
      }
      outbox.clear();
      MessageHandler h = handler;
      if (h == null) {
        closedBeforeStart = true;
        closedCause = cause;
      } else {
        socket.upcall(() -> h.onClosed(cause));
      }
    }

    @Override
    public void onTerminated() {
      if (timer != null) {
        timer.cancel();
        timer = null;
      }
      outbox.clear();
      port.terminated(UdpConnection.this);
    }
  }
}
