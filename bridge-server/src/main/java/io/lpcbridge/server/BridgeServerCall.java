package io.lpcbridge.server;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;
import io.lpcbridge.core.Cork;
import io.lpcbridge.core.MessageSizeException;
import io.lpcbridge.core.ParseFailure;
import io.lpcbridge.core.StreamListener;
import io.lpcbridge.core.WireStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;

/**
 * The server side of one call: the public {@link ServerCall} contract over one {@link WireStream},
 * and the {@link StreamListener} that feeds the application's {@link ServerCall.Listener}.
 *
 * <p>Requests are parsed on the transport's reader thread, in place; every application callback
 * (including {@code startCall}) runs on the call's serializing executor with the call's {@link
 * Context} attached, so with a direct executor a unary call runs start to finish on the reader
 * thread with no hand-off.
 */
final class BridgeServerCall<ReqT, RespT> extends ServerCall<ReqT, RespT> implements StreamListener {
  private final WireStream stream;
  private final MethodDescriptor<ReqT, RespT> method;
  private final Context.CancellableContext context;
  private final Executor executor;
  /** Not serializing: cancels the context while callbacks may still be busy, as grpc-java does. */
  private final Executor cancelExecutor;
  private final String authority;
  private final Attributes attributes;
  private final boolean unaryResponse;
  private final ServerTracers tracers;
  /** Tracer sequence numbers: outbound follow the application's serialized sends. */
  private int outboundSeq;
  /** Inbound ones follow the stream's serialized deliveries. */
  private int inboundSeq;

  /** Set by the first task on the executor; read only by later tasks on it. */
  private Listener<ReqT> appListener;

  private volatile boolean cancelled;
  private volatile boolean closeCalled;
  private boolean headersSent;

  BridgeServerCall(
      WireStream stream,
      MethodDescriptor<ReqT, RespT> method,
      Context.CancellableContext context,
      Executor executor,
      Executor cancelExecutor,
      String authority,
      Attributes attributes,
      ServerTracers tracers) {
    this.stream = stream;
    this.method = method;
    this.context = context;
    this.executor = executor;
    this.cancelExecutor = cancelExecutor;
    this.authority = authority;
    this.attributes = attributes;
    this.unaryResponse = method.getType().serverSendsOneMessage();
    this.tracers = tracers;
  }

  /** Runs the handler's {@code startCall} on the call's executor. */
  void start(ServerCallHandler<ReqT, RespT> handler, Metadata headers) {
    executor.execute(() -> startCall(handler, headers));
  }

  private void startCall(ServerCallHandler<ReqT, RespT> handler, Metadata headers) {
    Cork cork = Cork.enter();
    Context previous = context.attach();
    try {
      appListener = handler.startCall(this, headers);
      if (appListener == null) {
        throw new NullPointerException("startCall() returned a null listener for " + method.getFullMethodName());
      }
      // As grpc-java: the handler hears onReady once the call can take responses.
      if (isReady()) {
        appListener.onReady();
      }
    } catch (RuntimeException e) {
      appListener = new Listener<>() {};
      failFromApplication(e);
    } finally {
      context.detach(previous);
      cork.exit();
    }
  }

  // ------------------------------------------------------------------------------------------
  // ServerCall

  @Override
  public void request(int numMessages) {
    if (numMessages > 0) {
      stream.request(numMessages);
    }
  }

  @Override
  public void sendHeaders(Metadata headers) {
    if (closeCalled) {
      throw new IllegalStateException("call is closed");
    }
    if (headersSent) {
      throw new IllegalStateException("sendHeaders has already been called");
    }
    headersSent = true;
    stream.sendHeaders(headers);
  }

  @Override
  public void sendMessage(RespT message) {
    if (closeCalled) {
      throw new IllegalStateException("call is closed");
    }
    if (!headersSent) {
      sendHeaders(new Metadata());
    }
    if (cancelled) {
      return;
    }
    try {
      int size = stream.sendMessage(method.streamResponse(message), !unaryResponse);
      if (size >= 0) {
        tracers.outboundMessage(outboundSeq++, size);
      }
    } catch (MessageSizeException e) {
      abort(Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()));
    } catch (IOException | RuntimeException e) {
      abort(Status.INTERNAL.withDescription("failed to serialize the response: " + e).withCause(e));
    }
  }

  @Override
  public void close(Status status, Metadata trailers) {
    if (closeCalled) {
      throw new IllegalStateException("call already closed");
    }
    closeCalled = true;
    if (cancelled) {
      return;
    }
    stream.sendTrailers(status, trailers);
    tracers.closed(status);
    executor.execute(
        () -> {
          if (!cancelled) {
            runInContext(() -> appListener.onComplete());
          }
          context.cancel(null);
        });
  }

  @Override
  public boolean isCancelled() {
    return cancelled;
  }

  @Override
  public boolean isReady() {
    return !closeCalled && !cancelled && stream.isReady();
  }

  @Override
  public void setMessageCompression(boolean enabled) {}

  @Override
  public void setCompression(String compressor) {}

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public String getAuthority() {
    return authority;
  }

  @Override
  public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
    return method;
  }

  // ------------------------------------------------------------------------------------------
  // StreamListener: called by the session on the reader thread, or on a request() caller.

  @Override
  public void onMessage(ByteBuffer message) {
    int size = message.remaining();
    onHeldMessage(hold(message), size);
  }

  /** Parses the request where it lies; a failure is kept in its place, to act on in order. */
  @Override
  public Object hold(ByteBuffer message) {
    return ParseFailure.parse(method.getRequestMarshaller(), message);
  }

  @Override
  public void onHeldMessage(Object held, int size) {
    tracers.inboundMessage(inboundSeq++, size);
    if (held instanceof ParseFailure(RuntimeException e)) {
      abort(
          Status.INTERNAL
              .withDescription("failed to parse the request of " + method.getFullMethodName() + ": " + e.getMessage())
              .withCause(e));
      return;
    }
    @SuppressWarnings("unchecked")
    ReqT request = (ReqT) held;
    executor.execute(() -> callback(() -> appListener.onMessage(request)));
  }

  @Override
  public void onHalfClose() {
    executor.execute(() -> callback(() -> appListener.onHalfClose()));
  }

  @Override
  public void onReset(Status status) {
    cancelledBy(status);
  }

  @Override
  public void onReady() {
    executor.execute(() -> callback(() -> appListener.onReady()));
  }

  /** The deadline passed: the client is told, the application sees onCancel. */
  void deadlineExceeded() {
    if (closeCalled || cancelled) {
      return;
    }
    Status status = Status.DEADLINE_EXCEEDED.withDescription("server deadline exceeded for " + method.getFullMethodName());
    stream.cancel(status);
    cancelledBy(status);
  }

  /** Ends the call from the server's side with {@code status}, and tells the application. */
  private void abort(Status status) {
    if (!closeCalled) {
      closeCalled = true;
      stream.sendTrailers(status, new Metadata());
    }
    cancelledBy(status);
  }

  private void cancelledBy(Status status) {
    if (cancelled) {
      return;
    }
    cancelled = true;
    tracers.closed(status);
    // At once, not behind the call's callbacks: a handler may be busy polling its context.
    cancelExecutor.execute(() -> context.cancel(status.asRuntimeException()));
    executor.execute(() -> runInContext(() -> appListener.onCancel()));
  }

  private void failFromApplication(RuntimeException e) {
    abort(Status.UNKNOWN.withDescription("Application error processing RPC").withCause(e));
  }

  /** Runs an application callback; the messages it sends are corked ({@link Cork}). */
  private void callback(Runnable r) {
    if (cancelled) {
      return;
    }
    Cork cork = Cork.enter();
    try {
      runInContext(r);
    } catch (RuntimeException e) {
      failFromApplication(e);
    } finally {
      cork.exit();
    }
  }

  private void runInContext(Runnable r) {
    Context previous = context.attach();
    try {
      r.run();
    } finally {
      context.detach(previous);
    }
  }
}
