package io.lpcbridge.core;

import io.grpc.Metadata;
import io.grpc.Status;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One transport {@link Connection} speaking the bridge wire protocol ({@code
 * docs/wire-protocol.md}): the HELLO exchange, many concurrent calls multiplexed as streams,
 * per-call flow control, PING and GOAWAY.
 *
 * <p>Frames are read and dispatched on the transport's reader thread with no hop; payloads are
 * handed to the call layer in place. Frames are written by whichever thread produced them.
 *
 * <p>Malformed input from the peer (a truncated frame, an unknown type, a bad HELLO) ends the
 * connection with a GOAWAY naming the problem; malformed input confined to one call (bad
 * metadata, a message over the size limit, a flow-control violation) ends only that call.
 */
public final class WireSession implements MessageHandler {
  /** "LPCB": first four bytes of every HELLO. */
  public static final int MAGIC = 0x4C504342;
  public static final int VERSION = 1;
  /**
   * The window both sides assume before the peer's HELLO arrives, and the smallest a HELLO may
   * announce. A client may start calls without waiting for the server's HELLO.
   */
  public static final int MIN_WINDOW = 64 * 1024;

  static final int HELLO_LENGTH = 16;

  /**
   * How deep this thread is in {@link #transmit}; see {@link #onWritable()}. A counter that stays
   * in the thread's map: setting and removing an entry per send allocated a weak reference each
   * time.
   */
  private static final ThreadLocal<int[]> TRANSMITTING = ThreadLocal.withInitial(() -> new int[1]);

  private enum State {
    HANDSHAKE,
    OPEN,
    DRAINING,
    CLOSED
  }

  private final Connection connection;
  private final boolean clientSide;
  private final SessionOptions options;
  private final SessionListener listener;
  private final ScheduledExecutorService timer;
  private final Map<Integer, WireStream> streams = new ConcurrentHashMap<>();
  /** Method names and authorities of the calls this session starts, decoded once. */
  private final StringCache strings = new StringCache();
  private final AtomicInteger nextStreamId = new AtomicInteger(1);
  private final AtomicLong nextPing = new AtomicLong(1);
  private final Map<Long, PendingPing> pings = new ConcurrentHashMap<>();
  private final AtomicBoolean closedNotified = new AtomicBoolean();
  /** The reader's callbacks, made once: nothing is allocated to read a transport message. */
  private final Consumer<ByteBuffer> readFrames = this::readFrames;
  private final FrameVisitor frameVisitor = this::onFrame;
  private final ThreadLocal<FrameBuffer> scratch = ThreadLocal.withInitial(() -> new FrameBuffer(64));

  private volatile State state = State.HANDSHAKE;
  private volatile boolean helloReceived;
  private volatile long peerWindow = MIN_WINDOW;
  private volatile int peerMaxInbound = Integer.MAX_VALUE;
  private volatile Status closeStatus;
  private volatile long lastReadNanos = System.nanoTime();
  private volatile boolean closeWhenIdle;
  private int highestStreamSeen; // reader thread only
  /**
   * The stream the last frame was for, so that a stream of messages skips the map: reader thread
   * only (threads that read in turn hand over with happens-before), checked against {@link
   * WireStream#isRemoved} so that it answers exactly as the map would.
   */
  private WireStream lastStream;
  private ScheduledFuture<?> handshakeTimer;
  private ScheduledFuture<?> keepAliveTimer;

  private record PendingPing(long sentNanos, CompletableFuture<Long> result) {}

  private WireSession(
      Connection connection, boolean clientSide, SessionOptions options, SessionListener listener, ScheduledExecutorService timer) {
    this.connection = connection;
    this.clientSide = clientSide;
    this.options = options;
    this.listener = listener;
    this.timer = timer;
  }

  /** A client session on an unstarted connection. Call {@link #start()}. */
  public static WireSession client(
      Connection connection, SessionOptions options, SessionListener listener, ScheduledExecutorService timer) {
    return new WireSession(connection, true, options, listener, timer);
  }

  /** A server session on an accepted, unstarted connection. Call {@link #start()}. */
  public static WireSession server(
      Connection connection, SessionOptions options, SessionListener listener, ScheduledExecutorService timer) {
    return new WireSession(connection, false, options, listener, timer);
  }

  /**
   * Starts reading. A client sends its HELLO at once and may open streams immediately; a server
   * waits for the client's HELLO for at most the handshake timeout.
   */
  public void start() {
    if (!clientSide && !options.handshakeTimeout().isZero()) {
      handshakeTimer =
          timer.schedule(
              () -> {
                if (!helloReceived) {
                  protocolFailure(
                      GoAwayCodes.HANDSHAKE_TIMEOUT,
                      "no HELLO from " + connection.remoteAddress() + " within " + options.handshakeTimeout().toMillis() + " ms");
                }
              },
              options.handshakeTimeout().toNanos(),
              TimeUnit.NANOSECONDS);
    }
    connection.start(this);
    if (clientSide) {
      sendHello();
    }
    if (!options.keepAliveTime().isZero()) {
      long period = options.keepAliveTime().toNanos();
      keepAliveTimer = timer.scheduleWithFixedDelay(this::keepAliveTick, period, period, TimeUnit.NANOSECONDS);
    }
  }

  public SessionOptions options() {
    return options;
  }

  public Connection connection() {
    return connection;
  }

  public String remoteAddress() {
    return connection.remoteAddress();
  }

  /** Open for new streams: not draining, not closed. */
  public boolean isOpen() {
    State s = state;
    return (s == State.OPEN || s == State.HANDSHAKE) && connection.isOpen();
  }

  public boolean isEstablished() {
    return helloReceived && state == State.OPEN;
  }

  public int activeStreams() {
    return streams.size();
  }

  boolean isWritable() {
    return connection.isWritable();
  }

  /** The timer this session's deadlines and keepalives run on; also flushes corked frames. */
  ScheduledExecutorService timer() {
    return timer;
  }

  int maxTransportMessage() {
    return connection.maxMessageSize();
  }

  int peerMaxInboundMessageSize() {
    return peerMaxInbound;
  }

  // ------------------------------------------------------------------------------------------
  // Streams

  /**
   * Opens a call. The CALL_START frame is buffered in the stream, to go out with the first message
   * or on {@link WireStream#flush()}.
   *
   * @return the stream, or null when the session takes no new calls (draining or closed)
   */
  public WireStream newStream(CallStart start, StreamListener streamListener) {
    return newStream(start, streamListener, false);
  }

  /**
   * Opens a call, as {@link #newStream(CallStart, StreamListener)}.
   *
   * @param inlineReceive whether the caller will wait for the whole answer in {@link
   *     #receiveInline}; otherwise the transport's reader thread is brought back at once if it
   *     stood aside for an earlier inline receive
   */
  public WireStream newStream(CallStart start, StreamListener streamListener, boolean inlineReceive) {
    if (!clientSide) {
      throw new IllegalStateException("only a client session opens streams");
    }
    if (!inlineReceive) {
      connection.wakeReceivers();
    }
    if (!isOpen()) {
      return null;
    }
    int id = nextStreamId.getAndIncrement();
    if (id <= 0 || id == Integer.MAX_VALUE) {
      // Stream ids are spent: drain this connection; the channel opens a new one.
      state = State.DRAINING;
      return null;
    }
    long window = peerWindow;
    WireStream stream = new WireStream(this, id, true, window, streamListener);
    stream.writeCallStart(start);
    streams.put(id, stream);
    if (peerWindow != window) {
      // The server's HELLO came meanwhile, and its loop over the streams may have missed this
      // one: without this, the stream would keep the minimum window while the server credits
      // as if it had the announced one, and a call sending more than that would wait forever.
      stream.rebaseWindow(peerWindow);
    }
    if (state == State.CLOSED) {
      unmap(stream);
      return null;
    }
    return stream;
  }

  /**
   * Waits on the calling thread until {@code done} holds, receiving this session's messages here
   * where the transport can ({@link Connection#receiveInline}): the answer to a blocking call then
   * needs no hand-off from the reader thread. If streams are still open afterwards, the reader
   * thread takes over again at once.
   *
   * @return false if the transport did not receive on this thread; the caller waits its usual way
   */
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    boolean inline = connection.receiveInline(done, timeoutNanos);
    if (inline && !streams.isEmpty()) {
      connection.wakeReceivers();
    }
    return inline;
  }

  /** Wakes a thread in {@link #receiveInline} so that it checks its condition again. */
  public void wakeReceivers() {
    connection.wakeReceivers();
  }

  void remove(WireStream stream) {
    unmap(stream);
    if (streams.isEmpty() && (state == State.DRAINING || closeWhenIdle)) {
      connection.close();
    }
  }

  /** Drops {@code stream} from the map, marked first so that the reader's cached lookup agrees. */
  private void unmap(WireStream stream) {
    stream.markRemoved();
    streams.remove(stream.id(), stream);
  }

  // ------------------------------------------------------------------------------------------
  // Writing

  void transmit(ByteBuffer message) {
    int[] depth = TRANSMITTING.get();
    depth[0]++;
    try {
      connection.send(message);
    } finally {
      depth[0]--;
    }
  }

  private void sendControl(FrameBuffer b) {
    connection.send(b.contents());
    b.clear();
  }

  private void sendHello() {
    FrameBuffer b = scratch.get();
    b.beginFrame(FrameHeader.HELLO, (byte) 0, 0)
        .putInt(MAGIC)
        .putShort(VERSION)
        .putShort(0)
        .putInt(options.initialWindow())
        .putInt(options.maxInboundMessageSize())
        .endFrame();
    sendControl(b);
  }

  void sendWindowUpdate(int streamId, int increment) {
    FrameBuffer b = scratch.get();
    b.beginFrame(FrameHeader.WINDOW_UPDATE, (byte) 0, streamId).putInt(increment).endFrame();
    sendControl(b);
  }

  void sendCancel(int streamId, Status status) {
    FrameBuffer b = scratch.get();
    b.beginFrame(FrameHeader.CANCEL, (byte) 0, streamId).putInt(status.getCode().value());
    if (status.getDescription() != null) {
      b.putUtf8(status.getDescription());
    }
    sendControl(b.endFrame());
  }

  private void sendTrailersOnly(int streamId, Status status) {
    FrameBuffer b = scratch.get();
    byte[] description = status.getDescription() == null ? new byte[0] : status.getDescription().getBytes(StandardCharsets.UTF_8);
    b.beginFrame(FrameHeader.TRAILERS, (byte) 0, streamId)
        .putInt(status.getCode().value())
        .putInt(description.length)
        .put(description)
        .endFrame();
    sendControl(b);
  }

  private void sendGoAway(int code, String reason) {
    FrameBuffer b = scratch.get();
    b.beginFrame(FrameHeader.GOAWAY, (byte) 0, 0).putInt(highestStreamSeen).putInt(code);
    if (reason != null) {
      b.putUtf8(reason.length() > 1024 ? reason.substring(0, 1024) : reason);
    }
    sendControl(b.endFrame());
  }

  /** Sends a PING; completes with the round trip in nanoseconds, or fails if the session closes. */
  public CompletableFuture<Long> ping() {
    long opaque = nextPing.getAndIncrement();
    CompletableFuture<Long> result = new CompletableFuture<>();
    pings.put(opaque, new PendingPing(System.nanoTime(), result));
    FrameBuffer b = scratch.get();
    b.beginFrame(FrameHeader.PING, (byte) 0, 0).putLong(opaque).endFrame();
    sendControl(b);
    if (state == State.CLOSED) {
      failPings();
    }
    return result;
  }

  private void keepAliveTick() {
    if (state == State.CLOSED) {
      return;
    }
    long idle = System.nanoTime() - lastReadNanos;
    if (idle < options.keepAliveTime().toNanos()) {
      return;
    }
    ping()
        .orTimeout(options.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
        .whenComplete(
            (rtt, err) -> {
              if (err instanceof java.util.concurrent.TimeoutException) {
                closeStatus =
                    Status.UNAVAILABLE.withDescription(
                        "keepalive: no answer from " + connection.remoteAddress() + " within "
                            + options.keepAliveTimeout().toMillis() + " ms");
                connection.close();
                // The transport may wait for a dead peer to read; do not wait with it.
                closed(null);
              }
            });
  }

  // ------------------------------------------------------------------------------------------
  // Shutdown

  /**
   * Graceful: a server sends GOAWAY and refuses new calls; a client opens no new streams. The
   * connection closes when the last stream ends.
   */
  public void shutdown() {
    State s = state;
    if (s == State.CLOSED || s == State.DRAINING) {
      return;
    }
    state = State.DRAINING;
    if (!clientSide) {
      sendGoAway(GoAwayCodes.NO_ERROR, "server shutting down");
    }
    if (streams.isEmpty()) {
      connection.close();
    }
  }

  /** Closes the connection once no streams are open, without refusing new ones until then. */
  public void closeWhenIdle() {
    closeWhenIdle = true;
    if (streams.isEmpty()) {
      connection.close();
    }
  }

  /** Abandons every stream with {@code status} (listeners are told) and closes the connection. */
  public void shutdownNow(Status status) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.DRAINING;
    closeStatus = status;
    if (!clientSide) {
      sendGoAway(GoAwayCodes.NO_ERROR, status.getDescription());
    }
    for (WireStream s : new ArrayList<>(streams.values())) {
      if (clientSide) {
        sendCancel(s.id(), status);
      } else {
        sendTrailersOnly(s.id(), status);
      }
      s.reset(status);
    }
    connection.close();
  }

  // ------------------------------------------------------------------------------------------
  // Reading

  @Override
  public void onMessage(ByteBuffer message) {
    lastReadNanos = System.nanoTime();
    if (state == State.CLOSED) {
      return;
    }
    // Call events from one transport message reach each call's executor as one hand-off.
    SerializingExecutor.batch(readFrames, message);
  }

  private void readFrames(ByteBuffer message) {
    try {
      FrameReader.read(message, frameVisitor);
    } catch (ProtocolException e) {
      protocolFailure(e.code(), e.getMessage());
    }
  }

  @Override
  public void onWritable() {
    if (TRANSMITTING.get()[0] > 0) {
      // The transport turned writable inside a send of ours: a listener told now could re-enter
      // the very stream that is sending. Tell them once the send has returned.
      timer.execute(this::notifyAllReady);
    } else {
      notifyAllReady();
    }
  }

  private void notifyAllReady() {
    for (WireStream s : streams.values()) {
      s.notifyReady();
    }
  }

  @Override
  public void onClosed(Throwable cause) {
    closed(cause);
  }

  private void closed(Throwable cause) {
    state = State.CLOSED;
    Status status = closeStatus;
    if (status == null) {
      String what = "connection to " + connection.remoteAddress() + " closed";
      status = cause == null ? Status.UNAVAILABLE.withDescription(what) : Status.UNAVAILABLE.withDescription(what + ": " + cause.getMessage()).withCause(cause);
    }
    cancelTimers();
    for (WireStream s : new ArrayList<>(streams.values())) {
      s.reset(status);
    }
    failPings();
    if (closedNotified.compareAndSet(false, true)) {
      listener.onClosed(this, status);
    }
  }

  private void cancelTimers() {
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    if (keepAliveTimer != null) {
      keepAliveTimer.cancel(false);
    }
  }

  private void failPings() {
    for (Long key : List.copyOf(pings.keySet())) {
      PendingPing p = pings.remove(key);
      if (p != null) {
        p.result().completeExceptionally(new IllegalStateException("session closed before the PING was answered"));
      }
    }
  }

  /** Tells the peer what it broke, then closes; every stream fails with INTERNAL. */
  void protocolFailure(int code, String message) {
    if (state == State.CLOSED) {
      return;
    }
    String who = clientSide ? "server " : "client ";
    closeStatus =
        (code == GoAwayCodes.HANDSHAKE_TIMEOUT ? Status.UNAVAILABLE : Status.INTERNAL)
            .withDescription("protocol error from " + who + connection.remoteAddress() + ": " + message);
    state = State.DRAINING;
    sendGoAway(code, message);
    connection.close();
  }

  /** An error confined to one stream: end it both locally and at the peer. */
  void streamError(WireStream stream, Status status) {
    if (clientSide) {
      sendCancel(stream.id(), status);
    } else {
      sendTrailersOnly(stream.id(), status);
    }
    stream.reset(status);
  }

  private void onFrame(byte type, byte flags, int streamId, ByteBuffer payload) throws ProtocolException {
    try {
      dispatch(type, flags, streamId, payload);
    } catch (RuntimeException e) {
      // A call layer or application callback threw on this thread: end that call, not the connection.
      WireStream s = streamId == 0 ? null : stream(streamId);
      if (s == null) {
        throw e;
      }
      streamError(s, Status.INTERNAL.withDescription("call failed while handling " + FrameHeader.typeName(type) + ": " + e).withCause(e));
    }
  }

  private void dispatch(byte type, byte flags, int streamId, ByteBuffer payload) throws ProtocolException {
    if (!helloReceived && type != FrameHeader.HELLO) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR, "expected HELLO as the first frame, got " + FrameHeader.typeName(type));
    }
    switch (type) {
      case FrameHeader.HELLO -> onHello(streamId, payload);
      case FrameHeader.CALL_START -> onCallStart(streamId, payload);
      case FrameHeader.MESSAGE -> onMessageFrame(flags, streamId, payload);
      case FrameHeader.HALF_CLOSE -> {
        requireServer(type);
        WireStream s = stream(streamId);
        if (s != null) {
          s.inboundHalfClose();
        }
      }
      case FrameHeader.CANCEL -> onCancel(streamId, payload);
      case FrameHeader.HEADERS -> onHeaders(streamId, payload);
      case FrameHeader.TRAILERS -> onTrailers(streamId, payload);
      case FrameHeader.WINDOW_UPDATE -> {
        expectLength(type, payload, 4);
        int increment = payload.getInt(payload.position());
        if (increment <= 0) {
          throw new ProtocolException(
              GoAwayCodes.PROTOCOL_ERROR, "WINDOW_UPDATE of " + Integer.toUnsignedString(increment) + " on stream " + streamId);
        }
        WireStream s = stream(streamId);
        if (s != null) {
          s.onWindowUpdate(increment);
        }
      }
      case FrameHeader.PING -> onPing(flags, streamId, payload);
      case FrameHeader.GOAWAY -> onGoAway(streamId, payload);
      default -> throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "unknown frame type " + FrameHeader.typeName(type));
    }
  }

  private WireStream stream(int id) {
    WireStream s = lastStream;
    if (s != null && s.id() == id && !s.isRemoved()) {
      return s;
    }
    s = streams.get(id);
    lastStream = s;
    return s;
  }

  private static void expectLength(byte type, ByteBuffer payload, int length) throws ProtocolException {
    if (payload.remaining() != length) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR,
          FrameHeader.typeName(type) + " payload must be " + length + " bytes, got " + payload.remaining());
    }
  }

  private static void expectAtLeast(byte type, ByteBuffer payload, int length) throws ProtocolException {
    if (payload.remaining() < length) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR,
          FrameHeader.typeName(type) + " payload must be at least " + length + " bytes, got " + payload.remaining());
    }
  }

  private void requireServer(byte type) throws ProtocolException {
    if (clientSide) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, FrameHeader.typeName(type) + " sent to a client");
    }
  }

  private void requireClient(byte type) throws ProtocolException {
    if (!clientSide) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, FrameHeader.typeName(type) + " sent to a server");
    }
  }

  private static void requireStream(byte type, int streamId) throws ProtocolException {
    if (streamId <= 0) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR, FrameHeader.typeName(type) + " on stream " + Integer.toUnsignedString(streamId));
    }
  }

  private void onHello(int streamId, ByteBuffer p) throws ProtocolException {
    if (helloReceived) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "second HELLO");
    }
    if (streamId != 0) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "HELLO on stream " + streamId);
    }
    expectAtLeast(FrameHeader.HELLO, p, HELLO_LENGTH);
    int at = p.position();
    int magic = p.getInt(at);
    if (magic != MAGIC) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR, "bad HELLO magic 0x" + Integer.toHexString(magic) + ": the peer does not speak the bridge protocol");
    }
    int version = Short.toUnsignedInt(p.getShort(at + 4));
    if (version != VERSION) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR, "unsupported protocol version " + version + "; this side speaks " + VERSION);
    }
    long window = Integer.toUnsignedLong(p.getInt(at + 8));
    long maxInbound = Integer.toUnsignedLong(p.getInt(at + 12));
    if (window < MIN_WINDOW || window > Integer.MAX_VALUE) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR, "HELLO window " + window + " outside " + MIN_WINDOW + ".." + Integer.MAX_VALUE);
    }
    peerMaxInbound = (int) Math.min(Integer.MAX_VALUE, maxInbound);
    long delta = window - peerWindow;
    // Written before the streams are read; newStream puts its stream in the map before it reads
    // this again. So a stream opened meanwhile is rebased here, or there, or both (idempotent).
    peerWindow = window;
    for (WireStream s : streams.values()) {
      s.rebaseWindow(window);
    }
    helloReceived = true;
    if (handshakeTimer != null) {
      handshakeTimer.cancel(false);
    }
    if (state == State.HANDSHAKE) {
      state = State.OPEN;
    }
    if (!clientSide) {
      sendHello();
    }
    listener.onEstablished(this);
    if (delta > 0) {
      notifyAllReady();
    }
  }

  private void onCallStart(int streamId, ByteBuffer p) throws ProtocolException {
    requireServer(FrameHeader.CALL_START);
    requireStream(FrameHeader.CALL_START, streamId);
    expectAtLeast(FrameHeader.CALL_START, p, 10);
    int at = p.position();
    long timeout = p.getLong(at);
    int methodLength = Short.toUnsignedInt(p.getShort(at + 8));
    if (methodLength > p.remaining() - 10) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR,
          "CALL_START method length " + methodLength + " runs past the frame (" + (p.remaining() - 10) + " bytes left)");
    }
    if (streams.containsKey(streamId)) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "CALL_START for stream " + streamId + ", which is open");
    }
    if (streamId > highestStreamSeen) {
      highestStreamSeen = streamId;
    }
    if (state != State.OPEN) {
      sendTrailersOnly(streamId, Status.UNAVAILABLE.withDescription("server is shutting down; retry on a new connection"));
      return;
    }
    String method;
    try {
      method = strings.decode(p, at + 10, methodLength);
    } catch (CharacterCodingException e) {
      sendTrailersOnly(streamId, Status.INTERNAL.withDescription("method name is not valid UTF-8"));
      return;
    }
    MetadataCodec.Decoded md;
    try {
      md = MetadataCodec.decode(p.slice(at + 10 + methodLength, p.remaining() - 10 - methodLength), strings);
    } catch (ProtocolException e) {
      sendTrailersOnly(streamId, Status.INTERNAL.withDescription("call " + method + ": " + e.getMessage()));
      return;
    }
    if (timeout < CallStart.NO_TIMEOUT) {
      sendTrailersOnly(streamId, Status.INTERNAL.withDescription("call " + method + ": negative timeout " + timeout));
      return;
    }
    WireStream stream = new WireStream(this, streamId, false, peerWindow, null);
    streams.put(streamId, stream);
    StreamListener l;
    try {
      l = listener.onCallStart(stream, new CallStart(method, timeout, md.metadata(), md.authority()));
    } catch (RuntimeException e) {
      unmap(stream);
      sendTrailersOnly(streamId, Status.INTERNAL.withDescription("server failed to start call " + method + ": " + e).withCause(e));
      return;
    }
    stream.setListener(l);
  }

  private void onMessageFrame(byte flags, int streamId, ByteBuffer p) throws ProtocolException {
    requireStream(FrameHeader.MESSAGE, streamId);
    WireStream s = stream(streamId);
    if (s == null) {
      return; // A call already over at this end; the peer has not heard yet.
    }
    if (p.remaining() > options.maxInboundMessageSize()) {
      streamError(
          s,
          Status.RESOURCE_EXHAUSTED.withDescription(
              "gRPC message exceeds maximum size " + options.maxInboundMessageSize() + ": " + p.remaining()));
      return;
    }
    s.inboundMessage(p);
    if ((flags & FrameHeader.FLAG_END_STREAM) != 0) {
      if (clientSide) {
        throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "END_STREAM on a MESSAGE sent to a client");
      }
      s.inboundHalfClose();
    }
  }

  private void onCancel(int streamId, ByteBuffer p) throws ProtocolException {
    requireStream(FrameHeader.CANCEL, streamId);
    expectAtLeast(FrameHeader.CANCEL, p, 4);
    WireStream s = stream(streamId);
    if (s == null) {
      return;
    }
    Status status = statusOf(p.getInt(p.position()), utf8(p.slice(p.position() + 4, p.remaining() - 4)));
    s.reset(status);
  }

  private void onHeaders(int streamId, ByteBuffer p) throws ProtocolException {
    requireClient(FrameHeader.HEADERS);
    requireStream(FrameHeader.HEADERS, streamId);
    WireStream s = stream(streamId);
    if (s == null) {
      return;
    }
    Metadata md;
    try {
      md = MetadataCodec.decode(p).metadata();
    } catch (ProtocolException e) {
      streamError(s, Status.INTERNAL.withDescription("bad response headers: " + e.getMessage()));
      return;
    }
    s.inboundHeaders(md);
  }

  private void onTrailers(int streamId, ByteBuffer p) throws ProtocolException {
    requireClient(FrameHeader.TRAILERS);
    requireStream(FrameHeader.TRAILERS, streamId);
    expectAtLeast(FrameHeader.TRAILERS, p, 8);
    WireStream s = stream(streamId);
    if (s == null) {
      return;
    }
    int at = p.position();
    int code = p.getInt(at);
    int descLength = p.getInt(at + 4);
    if (descLength < 0 || descLength > p.remaining() - 8) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR,
          "TRAILERS status message length " + Integer.toUnsignedString(descLength) + " runs past the frame ("
              + (p.remaining() - 8) + " bytes left)");
    }
    String description = descLength == 0 ? null : utf8(p.slice(at + 8, descLength));
    Metadata md;
    try {
      md = MetadataCodec.decode(p.slice(at + 8 + descLength, p.remaining() - 8 - descLength)).metadata();
    } catch (ProtocolException e) {
      s.reset(Status.INTERNAL.withDescription("bad trailers: " + e.getMessage()));
      return;
    }
    s.inboundTrailers(statusOf(code, description), md);
  }

  private void onPing(byte flags, int streamId, ByteBuffer p) throws ProtocolException {
    expectLength(FrameHeader.PING, p, 8);
    long opaque = p.getLong(p.position());
    if ((flags & FrameHeader.FLAG_ACK) != 0) {
      PendingPing pending = pings.remove(opaque);
      if (pending != null) {
        pending.result().complete(System.nanoTime() - pending.sentNanos());
      }
      return;
    }
    FrameBuffer b = scratch.get();
    b.beginFrame(FrameHeader.PING, FrameHeader.FLAG_ACK, 0).putLong(opaque).endFrame();
    sendControl(b);
  }

  private void onGoAway(int streamId, ByteBuffer p) throws ProtocolException {
    expectAtLeast(FrameHeader.GOAWAY, p, 8);
    int at = p.position();
    int lastStreamId = p.getInt(at);
    int code = p.getInt(at + 4);
    String reason = utf8(p.slice(at + 8, p.remaining() - 8));
    if (code != GoAwayCodes.NO_ERROR) {
      closeStatus =
          Status.INTERNAL.withDescription(
              (clientSide ? "server " : "client ") + connection.remoteAddress() + " closed the connection with "
                  + GoAwayCodes.name(code) + ": " + reason);
    }
    if (state == State.OPEN || state == State.HANDSHAKE) {
      state = State.DRAINING;
    }
    if (clientSide) {
      Status refused =
          Status.UNAVAILABLE.withDescription(
              "server " + connection.remoteAddress() + " is going away (" + GoAwayCodes.name(code)
                  + (reason.isEmpty() ? "" : ": " + reason) + ") and did not process the call");
      for (WireStream s : new ArrayList<>(streams.values())) {
        if (Integer.compareUnsigned(s.id(), lastStreamId) > 0) {
          s.reset(refused);
        }
      }
    }
    listener.onGoAway(this, code, reason);
    if (streams.isEmpty()) {
      connection.close();
    }
  }

  private static Status statusOf(int code, String description) {
    Status s = Status.fromCodeValue(code);
    if (code < 0 || code > 16) {
      s = Status.UNKNOWN.withDescription("unknown status code " + code + (description == null ? "" : ": " + description));
      return s;
    }
    return description == null || description.isEmpty() ? s : s.withDescription(description);
  }

  private static String utf8(ByteBuffer b) {
    return StandardCharsets.UTF_8.decode(b).toString();
  }

  @Override
  public String toString() {
    return (clientSide ? "client" : "server") + " session " + connection.localAddress() + " <-> " + connection.remoteAddress();
  }
}
