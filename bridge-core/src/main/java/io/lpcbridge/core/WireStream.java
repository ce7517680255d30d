package io.lpcbridge.core;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One call on a {@link WireSession}: its outbound frames, its flow-control credit each way and
 * the messages that arrived before the application asked for them.
 *
 * <h2>Threading</h2>
 *
 * The outbound methods may be called from any thread, but not concurrently (as {@code ClientCall}
 * and {@code ServerCall} require of their callers). {@link #request} and {@link #isReady} are safe
 * from any thread at any time. Outbound state is guarded by {@code outLock}; inbound state by
 * the inbound lock ({@code lockIn}/{@code unlockIn}, a spin lock: see {@code inLock}). Listener
 * callbacks are made with neither held.
 *
 * <h2>Batching</h2>
 *
 * Outbound frames collect in a per-stream {@link FrameBuffer} and go to the transport as one
 * message when the call layer flushes: a unary request travels as CALL_START plus MESSAGE with
 * END_STREAM, a unary response as HEADERS, MESSAGE and TRAILERS, each in one transport message.
 *
 * <h2>Corking</h2>
 *
 * The first message a thread inside {@link Cork#run} (the call layers run every listener
 * callback that way) sends on a call goes out at once. The ones after it are not flushed even
 * when the caller asks: they wait in the buffer for each other and go to the transport as one
 * message when the callback returns. The batch also goes out as soon as it reaches {@link
 * #BATCH_BYTES} or would use up the flow-control credit, and the session's timer sends it after
 * {@link #FLUSH_DELAY_NANOS} if the callback runs on (a handler that sends and then blocks). Sends
 * from other threads are flushed at once.
 */
public final class WireStream {
  private static final Object HALF_CLOSE = new Object();

  private static final Logger log = Logger.getLogger(WireStream.class.getName());

  /** A corked batch goes to the transport once it holds this many bytes. */
  static final int BATCH_BYTES = Integer.getInteger("io.lpcbridge.batchBytes", 32 * 1024);

  /** How long a corked message may wait for the callback that sent it to return. */
  static final long FLUSH_DELAY_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

  /** {@link #FLUSH_DELAY_NANOS}, or what a test that counts batches set. */
  private static volatile long flushDelayNanos = FLUSH_DELAY_NANOS;

  private record Trailers(Status status, Metadata metadata) {}

  /** An emptied frame buffer of a finished stream, for the thread's next one. */
  private static final ThreadLocal<FrameBuffer> SPARE_BUFFER = new ThreadLocal<>();

  /** Larger buffers are not kept for another stream. */
  static final int SPARE_MAX_CAPACITY = 64 * 1024;

  /** A transport message held back for want of flow-control credit. */
  private record Blocked(ByteBuffer message, int cost) {}

  private final WireSession session;
  private final int id;
  private final boolean clientSide;
  private volatile StreamListener listener;
  /** Set before the session drops the stream from its map. */
  private volatile boolean removed;

  private final Object outLock = new Object();
  // Guarded by outLock.
  private FrameBuffer out;
  private int outCost;
  private ArrayDeque<Blocked> blocked;
  private long window;
  /** The peer's initial window that {@link #window} counts from ({@link #rebaseWindow}). */
  private long windowBase;
  private boolean outDone;
  /** The buffer holds corked frames, since {@link #corkedSince} (System.nanoTime). */
  private boolean corked;
  private long corkedSince;
  /** A {@link #flushWhenDue} is scheduled on the session's timer. */
  private boolean timerArmed;
  private final Runnable flushWhenDue = this::flushWhenDue;
  /** The scope this stream's corked frames are listed in, to be flushed when it ends. */
  private Cork corkedIn;

  /** A message that arrived before it was asked for: what the listener kept of it, and its size. */
  private record Held(Object message, int size) {}

  // Guarded by the inbound lock.
  private final ArrayDeque<Held> inbound = new ArrayDeque<>(2);
  /** Also read without the lock by {@link #inboundMessage}, as a hint that decides nothing. */
  private int demand;
  private boolean delivering;
  /**
   * The thread in {@link #deliverFrom}, set when it starts and cleared with {@code delivering}
   * (opaque accesses: only ever compared with the reading thread itself, for which they are
   * coherent). A {@link #request} it makes from inside a callback adds to {@link #pendingDemand}
   * without the lock, and the loop folds that in when the callback returns.
   */
  @SuppressWarnings("unused") // through DELIVERER
  private Thread deliverer;
  /** Demand asked for by callbacks of the delivery under way. The deliverer's alone. */
  private long pendingDemand;
  private Object end;
  private boolean inDone;
  private boolean terminated;
  private long unacked;
  private int consumed;
  private Status heldReset;

  /**
   * The inbound lock: 1 while held. Taken with a compare-and-set, given back with a release store,
   * where a monitor pays a compare-and-set both ways; a stream takes it twice per message (measured,
   * when it was three times: about 8% more messages per second over shm). It is held for a few field updates at
   * a time, never across a callback or another lock, and is not reentrant. A thread that finds it
   * taken spins briefly, then yields, since the holder may be waiting for the same CPU.
   */
  private volatile int inLock;

  private static final VarHandle IN_LOCK;
  private static final VarHandle DELIVERER;

  static {
    try {
      IN_LOCK = MethodHandles.lookup().findVarHandle(WireStream.class, "inLock", int.class);
      DELIVERER = MethodHandles.lookup().findVarHandle(WireStream.class, "deliverer", Thread.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private void lockIn() {
    if (!IN_LOCK.compareAndSet(this, 0, 1)) {
      lockInContended();
    }
  }

  private void lockInContended() {
    int spins = 0;
    while (inLock != 0 || !IN_LOCK.compareAndSet(this, 0, 1)) {
      if (++spins < 64) {
        Thread.onSpinWait();
      } else {
        Thread.yield();
      }
    }
  }

  private void unlockIn() {
    IN_LOCK.setRelease(this, 0);
  }

  WireStream(WireSession session, int id, boolean clientSide, long initialWindow, StreamListener listener) {
    this.session = session;
    this.id = id;
    this.clientSide = clientSide;
    this.window = initialWindow;
    this.windowBase = initialWindow;
    this.listener = listener;
  }

  public int id() {
    return id;
  }

  public WireSession session() {
    return session;
  }

  void markRemoved() {
    removed = true;
  }

  boolean isRemoved() {
    return removed;
  }

  /**
   * Server streams get their listener after the session has published them; a reset that lands in
   * between is held and delivered here.
   */
  void setListener(StreamListener listener) {
    Status held;
    lockIn();
    try {
      this.listener = listener;
      held = heldReset;
      heldReset = null;
    } finally {
      unlockIn();
    }
    if (held != null) {
      listener.onReset(held);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Outbound

  /** Client: appends the CALL_START frame. Not flushed. */
  void writeCallStart(CallStart start) {
    synchronized (outLock) {
      FrameBuffer b = buffer();
      b.beginFrame(FrameHeader.CALL_START, (byte) 0, id);
      b.putLong(start.timeoutNanos());
      byte[] method = StringCache.utf8(start.method());
      b.putShort(method.length).put(method);
      MetadataCodec.encode(start.headers(), start.authority(), b.outputStream());
      b.endFrame();
    }
  }

  /** Server: appends response headers. Not flushed: they travel with the first message. */
  public void sendHeaders(Metadata headers) {
    synchronized (outLock) {
      if (outDone) {
        return;
      }
      FrameBuffer b = buffer();
      b.beginFrame(FrameHeader.HEADERS, (byte) 0, id);
      MetadataCodec.encode(headers, null, b.outputStream());
      b.endFrame();
    }
  }

  /**
   * Appends one message, serialized straight from the marshaller's stream into the frame.
   *
   * @param flush hand it to the transport now (or, from inside {@link Cork#run}, when the
   *     callback returns); false when more frames of the same call follow at once (a unary
   *     request's half-close, a unary response's trailers)
   * @throws MessageSizeException when the message is larger than the peer accepts or the
   *     transport carries; nothing is sent and the stream is unchanged
   * @return the payload's size in bytes, or -1 if the stream is already over and nothing was sent
   * @throws IOException when the marshaller's stream fails
   */
  public int sendMessage(InputStream payload, boolean flush) throws IOException, MessageSizeException {
    synchronized (outLock) {
      if (outDone) {
        return -1;
      }
      int transportMax = session.maxTransportMessage();
      int peerMax = session.peerMaxInboundMessageSize();
      FrameBuffer b = buffer();
      int known = -1;
      if (payload instanceof KnownLength) {
        known = payload.available();
        checkSize(known, peerMax, transportMax);
        if (b.size() + FrameHeader.HEADER_LENGTH + known > transportMax) {
          flushLocked();
          b = buffer();
        }
        b.ensure(FrameHeader.HEADER_LENGTH + known);
      }
      int start = b.size();
      b.beginFrame(FrameHeader.MESSAGE, (byte) 0, id);
      try {
        if (known >= 0) {
          b.readFrom(payload, known);
        } else if (payload instanceof Drainable d) {
          d.drainTo(b.outputStream());
        } else {
          payload.transferTo(b.outputStream());
        }
      } catch (IOException | RuntimeException e) {
        b.abandonFrame();
        throw e;
      }
      int size = b.openPayloadLength();
      b.endFrame();
      if (b.size() > transportMax || size > peerMax) {
        ByteBuffer frame = copy(b.contents().position(start));
        b.truncate(start);
        checkSize(size, peerMax, transportMax);
        // Fits alone: send what came before it, then the message on its own.
        flushLocked();
        buffer().put(frame);
      }
      outCost += size;
      if (flush) {
        Cork cork = BATCH_BYTES == 0 ? null : Cork.current();
        if (cork != null && corkedIn != cork) {
          // The scope's first message on this call leaves at once: a callback that sends one
          // message (a bidi answer), or one before it blocks, is never held back.
          corkedIn = cork;
          cork.add(this);
          flushLocked();
        } else if (cork == null || out.size() >= BATCH_BYTES || outCost >= window) {
          flushLocked();
        } else if (!corked) {
          corked = true;
          corkedSince = System.nanoTime();
          if (!timerArmed) {
            timerArmed = true;
            scheduleFlush(flushDelayNanos);
          }
        }
      }
      return size;
    }
  }

  private static void checkSize(int size, int peerMax, int transportMax) throws MessageSizeException {
    if (size > peerMax) {
      throw new MessageSizeException(
          "message of " + size + " bytes exceeds the peer's maxInboundMessageSize " + peerMax);
    }
    if ((long) size + FrameHeader.HEADER_LENGTH > transportMax) {
      throw new MessageSizeException(
          "message of " + size + " bytes exceeds the transport's maxMessageSize " + transportMax
              + " (set the transport option maxMessageSize to raise it)");
    }
  }

  /** Client: no more messages. Folded into the last MESSAGE frame when it is still buffered. */
  public void halfClose() {
    synchronized (outLock) {
      if (outDone) {
        return;
      }
      outDone = true;
      FrameBuffer b = buffer();
      if (b.lastFrameType() == FrameHeader.MESSAGE) {
        b.addFlagToLastFrame(FrameHeader.FLAG_END_STREAM);
      } else {
        b.frame(FrameHeader.HALF_CLOSE, (byte) 0, id);
      }
      flushLocked();
      recycleBuffer();
    }
  }

  /** Server: ends the call with a status. Flushes. */
  public void sendTrailers(Status status, Metadata trailers) {
    boolean finished;
    synchronized (outLock) {
      if (outDone) {
        return;
      }
      outDone = true;
      FrameBuffer b = buffer();
      b.beginFrame(FrameHeader.TRAILERS, (byte) 0, id);
      b.putInt(status.getCode().value());
      byte[] description =
          status.getDescription() == null ? new byte[0] : status.getDescription().getBytes(java.nio.charset.StandardCharsets.UTF_8);
      b.putInt(description.length).put(description);
      MetadataCodec.encode(trailers, null, b.outputStream());
      b.endFrame();
      flushLocked();
      recycleBuffer();
      finished = blocked == null || blocked.isEmpty();
    }
    lockIn();
    try {
      inDone = true;
      inbound.clear();
      end = null;
      if (finished) {
        terminated = true;
      }
    } finally {
      unlockIn();
    }
    if (finished) {
      session.remove(this);
    }
  }

  /** Hands buffered frames to the transport now. */
  public void flush() {
    synchronized (outLock) {
      flushLocked();
    }
  }

  /** {@link Cork}: the scope that listed this stream ended; sends what it corked. */
  void flushCorked(Cork scope) {
    synchronized (outLock) {
      if (corkedIn == scope) {
        corkedIn = null;
      }
      if (corked) {
        flushLocked();
      }
    }
  }

  private void scheduleFlush(long delayNanos) {
    session.timer().schedule(flushWhenDue, delayNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * On the session's timer: sends the corked frames once they have waited the delay, or looks
   * again when they will have (the batch it was armed for left, and a later one is corked).
   */
  private void flushWhenDue() {
    synchronized (outLock) {
      if (!corked) {
        timerArmed = false;
        return;
      }
      long wait = corkedSince + flushDelayNanos - System.nanoTime();
      if (wait > 0) {
        scheduleFlush(wait);
        return;
      }
      timerArmed = false;
      try {
        flushLocked();
      } catch (RuntimeException e) {
        // Nobody else would hear of it: a scheduled task's exception stays in its future.
        log.log(Level.WARNING, "flushing corked messages of " + this + " failed", e);
      }
    }
  }

  /**
   * Tests that count transport messages lengthen the delay, so that a slow first run (interpreted
   * code, class loading) does not let the timer split their batches; 0 restores the default.
   */
  static void flushDelayForTests(long nanos) {
    flushDelayNanos = nanos == 0 ? FLUSH_DELAY_NANOS : nanos;
  }

  /**
   * Abandons the call from this side: tells the peer with a CANCEL frame and drops everything
   * buffered. The listener is not called; the caller reports the status to its application.
   */
  public void cancel(Status status) {
    if (!terminate(false)) {
      return;
    }
    session.sendCancel(id, status);
    session.remove(this);
  }

  /**
   * Whether a message sent now would go out at once: the stream has flow-control credit, nothing
   * is held back and the transport is writable.
   */
  public boolean isReady() {
    synchronized (outLock) {
      // Corked messages have not been charged to the window yet.
      return !outDone && window - outCost > 0 && (blocked == null || blocked.isEmpty()) && session.isWritable();
    }
  }

  private FrameBuffer buffer() {
    if (out == null) {
      FrameBuffer spare = SPARE_BUFFER.get();
      if (spare != null) {
        SPARE_BUFFER.set(null);
        out = spare;
      } else {
        out = new FrameBuffer();
      }
    }
    return out;
  }

  /**
   * Once this side has sent its last frame: hands the emptied buffer to the thread's next stream,
   * so that a thread answering call after call does not allocate one per call.
   */
  private void recycleBuffer() {
    FrameBuffer b = out;
    if (b != null && b.isEmpty() && b.capacity() <= SPARE_MAX_CAPACITY) {
      out = null;
      SPARE_BUFFER.set(b);
    }
  }

  private void flushLocked() {
    corked = false;
    if (out == null || out.isEmpty()) {
      return;
    }
    ByteBuffer contents = out.contents();
    if ((blocked == null || blocked.isEmpty()) && (outCost == 0 || window > 0)) {
      window -= outCost;
      session.transmit(contents);
    } else {
      if (blocked == null) {
        blocked = new ArrayDeque<>();
      }
      blocked.add(new Blocked(copy(contents), outCost));
    }
    outCost = 0;
    out.clear();
  }

  void onWindowUpdate(int increment) {
    boolean nowReady;
    boolean finished = false;
    synchronized (outLock) {
      boolean wasReady = !outDone && window > 0 && (blocked == null || blocked.isEmpty());
      window += increment;
      while (blocked != null && !blocked.isEmpty() && (blocked.peek().cost() == 0 || window > 0)) {
        Blocked next = blocked.poll();
        window -= next.cost();
        session.transmit(next.message());
      }
      nowReady = !wasReady && !outDone && window > 0 && (blocked == null || blocked.isEmpty());
      if (outDone && !clientSide && (blocked == null || blocked.isEmpty())) {
        finished = true;
      }
    }
    if (finished) {
      lockIn();
      try {
        if (terminated) {
          return;
        }
        terminated = true;
      } finally {
        unlockIn();
      }
      session.remove(this);
      return;
    }
    if (nowReady) {
      notifyReady();
    }
  }

  /**
   * The peer's HELLO announced {@code initialWindow}: the window counts from that, not from the
   * one it was created with. Idempotent, since both the HELLO and a stream opened meanwhile may
   * call it (WireSession.newStream).
   */
  void rebaseWindow(long initialWindow) {
    synchronized (outLock) {
      window += initialWindow - windowBase;
      windowBase = initialWindow;
    }
  }

  void notifyReady() {
    StreamListener l = listener;
    if (l != null && !isTerminated()) {
      l.onReady();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Inbound

  /**
   * Allows {@code n} more messages to be delivered. Buffered messages are delivered on the calling
   * thread before this returns, unless a delivery is under way already (which takes them), or the
   * listener has a {@link StreamListener#deliveryExecutor} (where they go).
   */
  public void request(int n) {
    if (n <= 0) {
      throw new IllegalArgumentException("request(" + n + "): must be positive");
    }
    if (DELIVERER.getOpaque(this) == Thread.currentThread()) {
      // From a callback of the delivery under way (a stream's every message, with automatic flow
      // control): its loop takes this demand when the callback returns.
      pendingDemand += n;
      return;
    }
    Object next;
    lockIn();
    try {
      demand = (int) Math.min(Integer.MAX_VALUE, (long) demand + n);
      if (delivering || (inbound.isEmpty() && end == null)) {
        return;
      }
      delivering = true;
      next = nextLocked();
    } finally {
      unlockIn();
    }
    startDelivery(next);
  }

  /** Reader thread: a MESSAGE payload. Delivered in place when the application is waiting for it. */
  void inboundMessage(ByteBuffer payload) {
    int size = payload.remaining();
    StreamListener l = listener;
    if (demand > 0 && l.deliveryExecutor() == null) {
      // A racy read, as a hint only; the lock decides. Asked for: deliver the payload in place.
      switch (admit(size, null, true)) {
        case DROP -> {
          return;
        }
        case OVERRUN -> {
          overrun();
          return;
        }
        case DELIVER -> {
          l.onMessage(payload);
          deliverFrom(afterDelivery(size));
          return;
        }
        default -> {
          // The demand went meanwhile (a request() delivering older messages took it): hold this
          // one, already charged to the window.
          Held held = new Held(l.hold(payload), size);
          if (admit(size, held, false) == DELIVER) {
            deliverFrom(held);
          }
          return;
        }
      }
    }
    // Not asked for yet (a stream's messages arriving faster than the application asks for them),
    // or delivered on the listener's executor: the listener keeps it (parses it) outside the lock,
    // since that may take a while, and the lock is taken once. Order holds: this reader thread
    // alone adds messages, and a delivery meanwhile takes what came before this one and stops, so
    // the demand is taken here.
    Held held = new Held(l.hold(payload), size);
    switch (admit(size, held, true)) {
      case OVERRUN -> overrun();
      case DELIVER -> startDelivery(held);
      default -> {}
    }
  }

  private static final int DROP = 0;
  private static final int OVERRUN = 1;
  private static final int DELIVER = 2;
  private static final int HELD = 3;

  /**
   * Under the inbound lock, what becomes of an arriving message of {@code size} bytes: DROP (the
   * stream's inbound side is over), OVERRUN (the peer broke flow control), DELIVER (the caller
   * delivers it now, having taken the demand), or HELD (added to the buffer when {@code held} is
   * given).
   *
   * @param charge whether to count the message against the window (once per message)
   */
  private int admit(int size, Held held, boolean charge) {
    lockIn();
    try {
      if (inDone) {
        return DROP;
      }
      if (charge) {
        unacked += size;
        if (unacked > (long) session.options().initialWindow() + session.options().maxInboundMessageSize()) {
          return OVERRUN;
        }
      }
      if (takeDemandLocked()) {
        return DELIVER;
      }
      if (held != null) {
        inbound.add(held);
      }
      return HELD;
    } finally {
      unlockIn();
    }
  }

  private void overrun() {
    session.streamError(
        this,
        Status.RESOURCE_EXHAUSTED.withDescription(
            "peer exceeded the flow-control window of " + session.options().initialWindow() + " bytes on stream " + id));
  }

  /** Whether the next message may be delivered now by the caller, who then delivers. Under the inbound lock. */
  private boolean takeDemandLocked() {
    if (delivering || !inbound.isEmpty() || demand <= 0) {
      return false;
    }
    demand--;
    delivering = true;
    return true;
  }

  /** Reader thread: response headers. */
  void inboundHeaders(Metadata headers) {
    lockIn();
    try {
      if (inDone) {
        return;
      }
    } finally {
      unlockIn();
    }
    listener.onHeaders(headers);
  }

  /** Reader thread: the client half-closed. */
  void inboundHalfClose() {
    inboundEnd(HALF_CLOSE);
  }

  /** Reader thread: the server's trailers. */
  void inboundTrailers(Status status, Metadata trailers) {
    inboundEnd(new Trailers(status, trailers));
  }

  private void inboundEnd(Object marker) {
    Object next;
    lockIn();
    try {
      if (inDone) {
        return;
      }
      inDone = true;
      end = marker;
      if (delivering || !inbound.isEmpty()) {
        return;
      }
      delivering = true;
      next = nextLocked();
    } finally {
      unlockIn();
    }
    startDelivery(next);
  }

  /**
   * The call is over from the peer's side or the connection's: drops what is buffered and tells
   * the listener once. Unless the peer's trailers have arrived already, still to be delivered
   * behind earlier messages: the call ended there, with its own status, and a connection lost
   * afterwards changes nothing (as in gRPC, where a stream is done once END_STREAM has come); what
   * arrived is delivered as the application asks for it, and the trailers last.
   */
  void reset(Status status) {
    if (!terminate(true)) {
      return;
    }
    session.remove(this);
    StreamListener l;
    lockIn();
    try {
      l = listener;
      if (l == null) {
        heldReset = status;
      }
    } finally {
      unlockIn();
    }
    if (l != null) {
      l.onReset(status);
    }
  }

  /** The inbound state, for a test's failure message. */
  String inboundState() {
    lockIn();
    try {
      return "demand " + demand + ", delivering " + delivering + ", held " + inbound.size() + ", end " + end + ", inDone " + inDone
          + ", terminated " + terminated + ", unacked " + unacked + ", consumed " + consumed;
    } finally {
      unlockIn();
    }
  }

  boolean isTerminated() {
    lockIn();
    try {
      return terminated;
    } finally {
      unlockIn();
    }
  }

  /**
   * Marks the stream over; true for the one caller that did it.
   *
   * @param keepTrailers false (and nothing done) when the peer's trailers are waiting to be
   *     delivered: their delivery ends the stream
   */
  private boolean terminate(boolean keepTrailers) {
    lockIn();
    try {
      if (terminated || (keepTrailers && end instanceof Trailers)) {
        return false;
      }
      terminated = true;
      inDone = true;
      inbound.clear();
      end = null;
    } finally {
      unlockIn();
    }
    synchronized (outLock) {
      outDone = true;
      out = null;
      blocked = null;
    }
    return true;
  }

  /**
   * Delivers {@code next} and what may follow it: here, or in one task on the listener's {@link
   * StreamListener#deliveryExecutor} when it has one. There, a {@link #request} the application
   * makes from a callback finds the delivery under way, adds to the demand and returns, and the
   * loop delivers the next message when the callback returns: a stream's messages cost one task
   * per run of deliveries, not one each. The caller set {@code delivering}, which stays set until
   * the task has delivered all it can.
   */
  private void startDelivery(Object next) {
    Executor ex = listener.deliveryExecutor();
    if (ex == null) {
      deliverFrom(next);
    } else {
      ex.execute(() -> deliverFrom(next));
    }
  }

  /**
   * Delivers {@code next} (a {@link Held} message, {@link #HALF_CLOSE} or {@link Trailers}) and
   * what may follow it, until the demand or the buffer runs out. The caller set {@code delivering}.
   * Each step takes the inbound lock once: to credit the peer for what was delivered and take the
   * next.
   */
  private void deliverFrom(Object next) {
    if (next == null) {
      return; // nothing to deliver (delivering is clear already): not a deliverer
    }
    DELIVERER.setOpaque(this, Thread.currentThread());
    try {
      deliverLoop(next);
    } catch (RuntimeException | Error e) {
      // A callback threw: the delivery stops here, as it did before there was a deliverer.
      DELIVERER.setOpaque(this, null);
      throw e;
    }
  }

  private void deliverLoop(Object next) {
    while (next != null) {
      if (next instanceof Held held) {
        listener.onHeldMessage(held.message(), held.size());
        next = afterDelivery(held.size());
      } else if (next == HALF_CLOSE) {
        listener.onHalfClose();
        next = afterDelivery(0);
      } else {
        Trailers t = (Trailers) next;
        synchronized (outLock) {
          outDone = true;
          out = null;
          blocked = null;
        }
        session.remove(this);
        listener.onTrailers(t.status(), t.metadata());
        next = afterDelivery(0);
      }
    }
  }

  /**
   * After a delivery of {@code size} payload bytes: credits the peer once half the window has been
   * delivered, and takes what to deliver next (null, with {@code delivering} cleared, if nothing).
   */
  private Object afterDelivery(int size) {
    int update = 0;
    Object next;
    lockIn();
    try {
      if (pendingDemand > 0) {
        demand = (int) Math.min(Integer.MAX_VALUE, demand + pendingDemand);
        pendingDemand = 0;
      }
      if (size > 0) {
        consumed += size;
        if (consumed >= session.options().initialWindow() / 2 && !inDone) {
          update = consumed;
          unacked -= consumed;
          consumed = 0;
        }
      }
      next = nextLocked();
    } finally {
      unlockIn();
    }
    if (update > 0) {
      session.sendWindowUpdate(id, update);
    }
    return next;
  }

  /**
   * The next thing to deliver, with the demand it uses taken; or null, clearing {@code
   * delivering}. Under the inbound lock, with {@code delivering} set.
   */
  private Object nextLocked() {
    // Terminated with no end left to deliver (a reset): nothing more.
    if (!terminated || end != null) {
      if (!inbound.isEmpty() && demand > 0) {
        demand--;
        return inbound.poll();
      }
      if (inbound.isEmpty() && end != null) {
        Object ending = end;
        end = null;
        if (ending != HALF_CLOSE) {
          terminated = true;
        }
        return ending;
      }
    }
    delivering = false;
    DELIVERER.setOpaque(this, null);
    return null;
  }

  /** A heap copy of {@code b}'s remaining bytes; {@code b} is left as it was. */
  static ByteBuffer copy(ByteBuffer b) {
    ByteBuffer c = ByteBuffer.allocate(b.remaining());
    c.put(b.duplicate()).flip();
    return c;
  }

  @Override
  public String toString() {
    return "stream " + id + " on " + session;
  }
}
