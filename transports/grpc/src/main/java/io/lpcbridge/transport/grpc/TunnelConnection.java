package io.lpcbridge.transport.grpc;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What the client and server ends of a tunnel share: a {@link Connection} over one gRPC call.
 *
 * <p>gRPC calls are not thread-safe, so every operation on the call (send, request, isReady,
 * half-close, close, cancel) is made under {@code this}. Callbacks from gRPC arrive on the call's
 * serializing executor, one at a time and in order, which is what {@link MessageHandler} needs.
 * Flow control is manual: one message is requested at start and one more after each {@code
 * onMessage} returns, so a slow handler stops gRPC from reading and the HTTP/2 window fills.
 */
abstract class TunnelConnection implements Connection {
  private final int maxMessageSize;
  private final Set<Capability> capabilities;
  private final AtomicBoolean started = new AtomicBoolean();
  private final AtomicBoolean closedNotified = new AtomicBoolean();
  /** Set when isWritable() has said false, so the next onReady owes the handler an onWritable. */
  private final AtomicBoolean owesWritable = new AtomicBoolean();

  /** Guarded by {@code this}. */
  private MessageHandler handler;
  /** Guarded by {@code this}; read unlocked by isOpen/isWritable. */
  private volatile boolean closing;
  /** Guarded by {@code this}: the call is over, no operation may be made on it. */
  private boolean callDone;
  /** Guarded by {@code this}: {@link #callFinish} was made (it may be made once). */
  private boolean finishSent;
  /** Guarded by {@code this}. */
  private Throwable termination;
  /** Guarded by {@code this}: why this side aborted the call, reported in place of gRPC's status. */
  private Throwable abortCause;

  TunnelConnection(int maxMessageSize, Set<Capability> capabilities) {
    this.maxMessageSize = maxMessageSize;
    this.capabilities = capabilities;
  }

  // ------------------------------------------------------------------ the call, under this

  /** Sends one message on the call. */
  abstract void callSend(byte[] message);

  abstract void callRequest(int n);

  abstract boolean callIsReady();

  /** Ends this side in order: the client half-closes, the server closes with OK. */
  abstract void callFinish();

  /** Ends the call at once, as a failure. */
  abstract void callAbort(String why, Throwable cause);

  // ------------------------------------------------------------------ Connection

  @Override
  public final void start(MessageHandler handler) {
    Objects.requireNonNull(handler, "handler");
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("start() called twice on " + this);
    }
    boolean alreadyOver;
    synchronized (this) {
      this.handler = handler;
      alreadyOver = callDone;
      if (!alreadyOver) {
        callRequest(1);
      }
    }
    if (alreadyOver) {
      notifyClosed();
    }
  }

  @Override
  public final boolean send(ByteBuffer message) {
    int length = message.remaining();
    if (length > maxMessageSize) {
      throw new MessageTooLargeException(length, maxMessageSize);
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
      callSend(copy);
    }
    return true;
  }

  @Override
  public final boolean isWritable() {
    if (closing) {
      return false;
    }
    synchronized (this) {
      if (callDone || callIsReady()) {
        return !callDone;
      }
      // Set before looking again, so an onReady racing with this call is not lost.
      owesWritable.set(true);
      return callIsReady();
    }
  }

  @Override
  public final void close() {
    synchronized (this) {
      if (closing) {
        return;
      }
      closing = true;
      finishOnce();
    }
    onCloseRequested();
  }

  /** Hook for the client end's linger timer. */
  void onCloseRequested() {}

  @Override
  public final boolean isOpen() {
    return !closing;
  }

  @Override
  public final int maxMessageSize() {
    return maxMessageSize;
  }

  @Override
  public final Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public String toString() {
    return "grpc tunnel " + localAddress() + " -> " + remoteAddress();
  }

  // ------------------------------------------------------------------ from gRPC callbacks

  /** A message arrived; deliver it and ask for the next. Called on the call's executor. */
  final void deliver(byte[] message) {
    MessageHandler h;
    synchronized (this) {
      h = handler;
    }
    if (closedNotified.get()) {
      return;
    }
    try {
      h.onMessage(ByteBuffer.wrap(message));
    } catch (RuntimeException | Error e) {
      abort("MessageHandler.onMessage threw", e);
      return;
    }
    synchronized (this) {
      if (!callDone) {
        callRequest(1);
      }
    }
  }

  /** The call became ready to send. Called on the call's executor. */
  final void ready() {
    MessageHandler h;
    synchronized (this) {
      h = handler;
      if (h == null || closing || callDone || !callIsReady()) {
        return;
      }
    }
    if (owesWritable.compareAndSet(true, false)) {
      h.onWritable();
    }
  }

  /** The peer finished in order (half-close seen by the server); finish this side too. */
  final void peerFinished() {
    synchronized (this) {
      closing = true;
      finishOnce();
    }
  }

  /** Under {@code this}. */
  private void finishOnce() {
    if (!callDone && !finishSent) {
      finishSent = true;
      callFinish();
    }
  }

  /** The call is over; {@code cause} null if in order. Called once, on the call's executor. */
  final void terminated(Throwable cause) {
    MessageHandler h;
    synchronized (this) {
      closing = true;
      callDone = true;
      termination = abortCause != null ? abortCause : cause;
      h = handler;
    }
    onTerminated();
    if (h != null) {
      notifyClosed();
    }
  }

  /** Hook: release what the end holds (the client's channel). */
  void onTerminated() {}

  final void abort(String why, Throwable cause) {
    synchronized (this) {
      closing = true;
      if (!callDone) {
        abortCause = cause;
        callAbort(why, cause);
      }
    }
  }

  private void notifyClosed() {
    if (!closedNotified.compareAndSet(false, true)) {
      return;
    }
    MessageHandler h;
    Throwable cause;
    synchronized (this) {
      h = handler;
      cause = termination;
    }
    h.onClosed(cause);
  }
}
