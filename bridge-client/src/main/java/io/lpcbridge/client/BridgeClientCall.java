package io.lpcbridge.client;

import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.lpcbridge.core.CallStart;
import io.lpcbridge.core.MessageSizeException;
import io.lpcbridge.core.ParseFailure;
import io.lpcbridge.core.Cork;
import io.lpcbridge.core.SerializingExecutor;
import io.lpcbridge.core.SharedResources;
import io.lpcbridge.core.StreamListener;
import io.lpcbridge.core.WireSession;
import io.lpcbridge.core.WireStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A call on a {@link BridgeChannel}: the public {@link ClientCall} contract over one {@link
 * WireStream}.
 *
 * <p>Until the channel has a connection for it, operations are recorded and replayed in order once
 * the stream exists, as gRPC's delayed stream does. Responses are parsed on the transport's reader
 * thread, straight from its buffer, and handed to the application on the call's executor, one
 * callback at a time.
 */
final class BridgeClientCall<ReqT, RespT> extends ClientCall<ReqT, RespT> implements StreamListener {
  private final MethodDescriptor<ReqT, RespT> method;
  private final CallOptions callOptions;
  private final ClientTransportManager transport;
  private final String authority;
  private final Executor callExecutor;
  /** {@link #callExecutor} when the stream delivers on it ({@link #deliveryExecutor}), else null. */
  private final Executor drainer;
  private final Context context;
  private final boolean unaryRequest;
  /**
   * A unary call made through the blocking stub: its caller waits for the answer right after
   * halfClose, so it receives it itself ({@link WireSession#receiveInline}).
   */
  private final boolean inlineReceive;
  /** The thread in receiveInline for this call, if any. */
  private volatile Thread inlineThread;
  /** The thread that started the call: the blocking stub's, which waits for the answer. */
  private Thread startThread;

  private final Object lock = new Object();
  /**
   * The stream, published once the recorded operations are replayed onto it. Written under lock;
   * volatile so that operations after that take no lock. An operation that reaches a stream the
   * call has cancelled is harmless: a cancelled stream ignores it.
   */
  private volatile WireStream stream;
  // Guarded by lock.
  /** The stream once created, before recorded operations are replayed onto it. */
  private WireStream created;
  private List<Consumer<WireStream>> pendingOps = new ArrayList<>();
  private boolean started;
  private boolean cancelled;
  private boolean halfClosed;
  private Metadata startHeaders;
  private Deadline deadline;
  private int sessionAttempts;

  private volatile Listener<RespT> listener;
  private final AtomicBoolean closed = new AtomicBoolean();
  /** Set on the call executor when onClose runs; later callbacks are dropped. */
  private boolean closeDelivered;
  /** Set on the call executor when a listener callback threw; later messages are dropped. */
  private boolean listenerThrew;
  private ScheduledFuture<?> deadlineTimer;
  private volatile ClientTracers tracers = ClientTracers.NONE;
  /** Sequence numbers for tracers: outbound ones follow the caller's (serialized) sends. */
  private int outboundSeq;
  /** Inbound ones follow the stream's (serialized) deliveries. */
  private int inboundSeq;
  private Context.CancellationListener cancellationListener;

  BridgeClientCall(
      MethodDescriptor<ReqT, RespT> method,
      CallOptions callOptions,
      ClientTransportManager transport,
      String authority,
      Executor channelExecutor) {
    this.method = method;
    this.callOptions = callOptions;
    this.transport = transport;
    this.authority = callOptions.getAuthority() != null ? callOptions.getAuthority() : authority;
    Executor e = callOptions.getExecutor() != null ? callOptions.getExecutor() : channelExecutor;
    // The blocking stub's executor is serial already: its one waiting thread runs what is queued,
    // in order. Everything else runs one callback at a time through a SerializingExecutor.
    this.callExecutor = waitsOnCallingThread(e) ? e : new SerializingExecutor(e);
    this.drainer = callExecutor instanceof SerializingExecutor ? callExecutor : null;
    this.context = Context.current();
    this.unaryRequest = method.getType().clientSendsOneMessage();
    this.inlineReceive = method.getType() == MethodDescriptor.MethodType.UNARY && waitsOnCallingThread(callOptions.getExecutor());
  }

  /**
   * Whether {@code executor} is grpc-java's ThreadlessExecutor: the blocking stub's, whose thread
   * waits for the call's callbacks and runs them itself. Known by its class name, since the class
   * is private; with another gRPC version that renames it, calls just take the usual path.
   */
  static boolean waitsOnCallingThread(Executor executor) {
    return executor != null && executor.getClass().getName().equals("io.grpc.stub.ClientCalls$ThreadlessExecutor");
  }

  @Override
  public void start(Listener<RespT> responseListener, Metadata headers) {
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("call already started");
      }
      if (cancelled) {
        // As grpc-java's delayed call (what a new channel hands out): the listener hears the
        // cancellation. (grpc-java's ClientCallImpl, used once a channel is connected, throws
        // instead; the friendlier behaviour is the one applications meet first.)
        this.listener = responseListener;
        deliverClose(Status.CANCELLED.withDescription("call was cancelled before start"), new Metadata());
        return;
      }
      started = true;
      startHeaders = headers;
      startThread = Thread.currentThread();
    }
    this.listener = responseListener;
    if (context.isCancelled()) {
      close(Contexts.statusFromCancelled(context), new Metadata());
      return;
    }
    Deadline effective = minDeadline(callOptions.getDeadline(), context.getDeadline());
    if (effective != null && effective.isExpired()) {
      close(
          Status.DEADLINE_EXCEEDED.withDescription(
              "ClientCall started after " + (effective == callOptions.getDeadline() ? "CallOptions" : "Context")
                  + " deadline was exceeded. Deadline has been exceeded for " + -effective.timeRemaining(TimeUnit.NANOSECONDS) + "ns."),
          new Metadata());
      return;
    }
    synchronized (lock) {
      deadline = effective;
    }
    if (effective != null) {
      long nanos = effective.timeRemaining(TimeUnit.NANOSECONDS);
      deadlineTimer =
          SharedResources.timer()
              .schedule(
                  () ->
                      cancelInternal(
                          Status.DEADLINE_EXCEEDED.withDescription(
                              String.format(
                                  Locale.ROOT,
                                  "deadline exceeded after %.9fs waiting for %s on %s",
                                  nanos / 1e9,
                                  method.getFullMethodName(),
                                  transport.target()))),
                  nanos,
                  TimeUnit.NANOSECONDS);
    }
    if (context.getDeadline() != null || context != Context.ROOT) {
      cancellationListener = ctx -> cancelInternal(Contexts.statusFromCancelled(ctx));
      context.addListener(cancellationListener, Runnable::run);
    }
    transport.obtainSession(this, callOptions.isWaitForReady());
  }

  private static Deadline minDeadline(Deadline a, Deadline b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    return a.isBefore(b) ? a : b;
  }

  /** The channel has a session for this call. Called by the manager, on any thread. */
  void onSession(WireSession session) {
    WireStream s;
    boolean retry;
    synchronized (lock) {
      if (cancelled || created != null) {
        return;
      }
      long timeout = CallStart.NO_TIMEOUT;
      if (deadline != null) {
        timeout = Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS));
      }
      s = session.newStream(new CallStart(method.getFullMethodName(), timeout, startHeaders, authority), this, inlineReceive);
      created = s;
      if (s != null) {
        tracers = ClientTracers.create(callOptions, startHeaders);
        tracers.streamStarted(Attributes.EMPTY, startHeaders);
      }
      retry = s == null && ++sessionAttempts < 3;
    }
    if (s == null) {
      // The session began draining between the manager's pick and now: ask again.
      if (retry) {
        transport.obtainSession(this, callOptions.isWaitForReady());
      } else {
        onSessionFailure(Status.UNAVAILABLE.withDescription("no open connection to " + transport.target() + " would take the call"));
      }
      return;
    }
    if (!unaryRequest) {
      // The server should see a streaming call before its first message.
      s.flush();
    }
    // Replay recorded operations in order; operations arriving meanwhile are recorded too, so the
    // stream is published only once the record is empty.
    while (true) {
      List<Consumer<WireStream>> ops;
      synchronized (lock) {
        if (pendingOps == null) {
          return; // cancelled meanwhile; cancelInternal cancelled the stream
        }
        if (pendingOps.isEmpty()) {
          stream = s;
          pendingOps = null;
          startHeaders = null;
          break;
        }
        ops = pendingOps;
        pendingOps = new ArrayList<>();
      }
      for (Consumer<WireStream> op : ops) {
        op.accept(s);
      }
    }
    // As grpc-java: the listener hears onReady once the call can take messages. Senders that
    // wait for it (the usual manual flow control) would otherwise never start.
    if (s.isReady()) {
      onReady();
    }
  }

  /** The channel could not provide a session. */
  void onSessionFailure(Status status) {
    synchronized (lock) {
      if (created != null || cancelled) {
        return;
      }
      cancelled = true;
      pendingOps = null;
    }
    close(status, new Metadata());
  }

  private void withStream(Consumer<WireStream> op) {
    WireStream s = stream;
    if (s == null) {
      synchronized (lock) {
        if (cancelled) {
          return;
        }
        s = stream;
        if (s == null) {
          pendingOps.add(op);
          return;
        }
      }
    }
    op.accept(s);
  }

  @Override
  public void request(int numMessages) {
    if (numMessages < 0) {
      throw new IllegalArgumentException("numMessages must be non-negative: " + numMessages);
    }
    if (numMessages == 0) {
      return;
    }
    WireStream s = stream;
    if (s != null) {
      s.request(numMessages); // once per message of a stream: no lock, no lambda
      return;
    }
    withStream(w -> w.request(numMessages));
  }

  @Override
  public void sendMessage(ReqT message) {
    synchronized (lock) {
      if (!started) {
        throw new IllegalStateException("call not started");
      }
      if (halfClosed) {
        throw new IllegalStateException("call was half-closed");
      }
    }
    withStream(
        s -> {
          try {
            int size = s.sendMessage(method.streamRequest(message), !unaryRequest);
            if (size >= 0) {
              tracers.outboundMessage(outboundSeq++, size);
            }
          } catch (MessageSizeException e) {
            cancelInternal(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()));
          } catch (IOException | RuntimeException e) {
            cancelInternal(Status.INTERNAL.withDescription("failed to serialize the request: " + e).withCause(e));
          }
        });
  }

  @Override
  public void halfClose() {
    synchronized (lock) {
      if (!started) {
        throw new IllegalStateException("call not started");
      }
      if (halfClosed) {
        throw new IllegalStateException("call already half-closed");
      }
      halfClosed = true;
    }
    withStream(WireStream::halfClose);
    if (inlineReceive) {
      receiveAnswerHere();
    }
  }

  /**
   * The blocking stub waits for the answer as soon as this returns: wait here instead, receiving
   * it on this thread, so that it is queued to the stub's executor before the stub would park and
   * the transport's reader thread need not wake this one. Ends when the call is closed (answered,
   * cancelled, past its deadline) or the thread is interrupted; otherwise the stub waits as usual.
   */
  private void receiveAnswerHere() {
    WireStream s;
    synchronized (lock) {
      // Only on the thread that will wait: an interceptor that half-closes from another thread
      // (a timer, its own executor) must not be held up until the answer comes.
      if (startThread != Thread.currentThread()) {
        return;
      }
      s = stream;
    }
    if (s == null) {
      return; // still connecting: the reader thread delivers as usual
    }
    inlineThread = Thread.currentThread();
    try {
      s.session().receiveInline(closed::get, Long.MAX_VALUE);
    } finally {
      inlineThread = null;
    }
  }

  @Override
  public void cancel(String message, Throwable cause) {
    if (message == null && cause == null) {
      message = "call cancelled without message";
    }
    Status status = Status.CANCELLED;
    status = message != null ? status.withDescription(message) : status.withDescription("call cancelled");
    if (cause != null) {
      status = status.withCause(cause);
    }
    cancelInternal(status);
  }

  private void cancelInternal(Status status) {
    WireStream s;
    synchronized (lock) {
      if (cancelled) {
        return;
      }
      cancelled = true;
      s = created;
      pendingOps = null;
      if (!started) {
        return;
      }
    }
    if (s != null) {
      s.cancel(status);
    } else {
      transport.forget(this);
    }
    close(status, new Metadata());
  }

  @Override
  public boolean isReady() {
    WireStream s;
    synchronized (lock) {
      s = stream;
    }
    return s != null && !closed.get() && s.isReady();
  }

  @Override
  public void setMessageCompression(boolean enabled) {
    // The bridge does not compress: local transports gain nothing from it.
  }

  @Override
  public Attributes getAttributes() {
    return Attributes.EMPTY;
  }

  // ------------------------------------------------------------------------------------------
  // StreamListener: called by the session, on the transport's reader thread or a request() caller.

  @Override
  public void onHeaders(Metadata headers) {
    tracers.inboundHeaders(headers);
    callExecutor.execute(() -> runCallback(() -> listener.onHeaders(headers), "Failed to read headers"));
  }

  /**
   * On the call executor: one callback of the application's listener, unless onClose has run.
   * Messages the listener sends are corked until it returns (Cork); a callback that throws cancels
   * the call (listenerFailed).
   */
  private void runCallback(Runnable callback, String failure) {
    if (!closeDelivered) {
      Cork cork = Cork.enter();
      try {
        callback.run();
      } catch (Throwable t) {
        listenerFailed(failure, t);
      } finally {
        cork.exit();
      }
    }
  }

  @Override
  public void onMessage(ByteBuffer message) {
    int size = message.remaining();
    onHeldMessage(hold(message), size);
  }

  /** Parses the response where it lies; a failure is kept in its place, to act on in order. */
  @Override
  public Object hold(ByteBuffer message) {
    return ParseFailure.parse(method.getResponseMarshaller(), message);
  }

  @Override
  public void onHeldMessage(Object held, int size) {
    tracers.inboundMessage(inboundSeq++, size);
    if (held instanceof ParseFailure(RuntimeException e)) {
      cancelInternal(
          Status.INTERNAL.withDescription("failed to parse the response of " + method.getFullMethodName() + ": " + e).withCause(e));
      return;
    }
    @SuppressWarnings("unchecked")
    RespT response = (RespT) held;
    if (drainer != null) {
      // On the call executor already (deliveryExecutor).
      deliverMessage(response);
    } else {
      callExecutor.execute(() -> deliverMessage(response));
    }
  }

  /** On the call executor: runCallback's work for a message, written out so as not to allocate a lambda per message. */
  private void deliverMessage(RespT response) {
    if (!closeDelivered && !listenerThrew) {
      Cork cork = Cork.enter();
      try {
        listener.onMessage(response);
      } catch (Throwable t) {
        listenerFailed("Failed to read message.", t);
      } finally {
        cork.exit();
      }
    }
  }

  /**
   * A callback of the application's listener threw: as in grpc-java, the call is cancelled (the
   * server hears of it) and onClose says CANCELLED with {@code description}, the exception as its
   * cause. Later messages are not delivered.
   */
  private void listenerFailed(String description, Throwable t) {
    listenerThrew = true;
    cancelInternal(Status.CANCELLED.withDescription(description).withCause(t));
  }

  /**
   * The call executor, when it is a SerializingExecutor: the stream then delivers messages and the
   * trailers on it, a run of messages in one task. Not the blocking stub's executor, which runs
   * tasks only once the thread that waits for the answer (receiveAnswerHere) has it.
   */
  @Override
  public Executor deliveryExecutor() {
    return drainer;
  }

  @Override
  public void onTrailers(Status status, Metadata trailers) {
    close(status, trailers, true);
  }

  @Override
  public void onReset(Status status) {
    close(status, new Metadata());
  }

  @Override
  public void onReady() {
    callExecutor.execute(() -> runCallback(() -> listener.onReady(), "Failed to call onReady."));
  }

  private void close(Status status, Metadata trailers) {
    close(status, trailers, false);
  }

  private void close(Status status, Metadata trailers, boolean fromServer) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Thread inline = inlineThread;
    if (inline != null && inline != Thread.currentThread()) {
      // Closed from elsewhere (deadline, cancellation, the channel shutting down): the waiting
      // thread must notice now, not when the next message comes.
      WireStream s;
      synchronized (lock) {
        s = created;
      }
      if (s != null) {
        s.session().wakeReceivers();
      }
    }
    tracers.closed(status, fromServer ? trailers : null);
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
    }
    if (cancellationListener != null) {
      context.removeListener(cancellationListener);
    }
    deliverClose(status, trailers);
  }

  private void deliverClose(Status status, Metadata trailers) {
    callExecutor.execute(
        () -> {
          if (!closeDelivered) {
            closeDelivered = true;
            listener.onClose(status, trailers);
          }
        });
  }

  @Override
  public String toString() {
    return "call " + method.getFullMethodName() + " to " + transport.target();
  }
}
