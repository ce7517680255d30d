package io.lpcbridge.server;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Drainable;
import io.grpc.HandlerRegistry;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Forwards every call the server does not host to an upstream {@link Channel}, byte for byte: the
 * bridge needs no copy of the .proto. Install it as the server's fallback registry ({@link
 * BridgeServerBuilder#forwardTo}); methods the server hosts itself are served locally first.
 *
 * <p>Each forwarded call is one upstream call of the same full method name, opened with the
 * downstream call's {@link io.grpc.Context} attached, so the deadline and cancellation travel
 * upstream as they do through any gRPC client. Request metadata is copied upstream; response
 * headers, messages, status and trailers are copied back. Flow control holds end to end: a
 * message is asked of one side only when the other is ready to take it, so a slow consumer slows
 * the producer and at most one message per direction waits in the forwarder.
 *
 * <p>Every method is forwarded as bidi-streaming: on the wire the four call kinds differ only in
 * how many messages each side sends, and the forwarder passes along whatever arrives.
 */
public final class ForwardingRegistry extends HandlerRegistry {
  private final Channel upstream;
  private final ConcurrentHashMap<String, ServerMethodDefinition<byte[], byte[]>> methods = new ConcurrentHashMap<>();

  private ForwardingRegistry(Channel upstream) {
    this.upstream = upstream;
  }

  /** Forwards to {@code upstream} (a BridgeChannel, a balancing channel over several hosts, or any gRPC channel). */
  public static ForwardingRegistry to(Channel upstream) {
    return new ForwardingRegistry(upstream);
  }

  @Override
  public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
    return methods.computeIfAbsent(methodName, this::define);
  }

  private ServerMethodDefinition<byte[], byte[]> define(String fullMethodName) {
    MethodDescriptor<byte[], byte[]> descriptor =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(fullMethodName)
            .setRequestMarshaller(RawBytes.INSTANCE)
            .setResponseMarshaller(RawBytes.INSTANCE)
            .build();
    return ServerMethodDefinition.create(descriptor, new Handler(descriptor));
  }

  private final class Handler implements ServerCallHandler<byte[], byte[]> {
    private final MethodDescriptor<byte[], byte[]> method;

    Handler(MethodDescriptor<byte[], byte[]> method) {
      this.method = method;
    }

    @Override
    public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> downstream, Metadata headers) {
      ClientCall<byte[], byte[]> up = upstream.newCall(method, CallOptions.DEFAULT);
      Proxy proxy = new Proxy(downstream, up);
      up.start(proxy.upstreamListener, copyOf(headers));
      // One message each way to begin with; more as the other side can take them.
      up.request(1);
      downstream.request(1);
      return proxy.downstreamListener;
    }
  }

  private static Metadata copyOf(Metadata headers) {
    Metadata m = new Metadata();
    m.merge(headers);
    return m;
  }

  /**
   * One forwarded call. Downstream events come on the downstream call's executor, upstream events
   * on the upstream call's; each side's methods are only called from its own callbacks or under the
   * proxy's lock, as ClientCall and ServerCall require.
   */
  private static final class Proxy {
    private final ServerCall<byte[], byte[]> downstream;
    private final ClientCall<byte[], byte[]> upstream;
    private final Object lock = new Object();
    private boolean downstreamClosed;
    private boolean headersSent;
    // A message has been asked of that side and has not come yet. Asking only then keeps at most
    // one message per direction in flight through the forwarder, however often onReady fires.
    private boolean askedDownstream = true;
    private boolean askedUpstream = true;

    /** Asks downstream for the next request if none is asked for and upstream can take it. */
    private void pullDownstream() {
      if (!askedDownstream && !downstreamClosed && upstream.isReady()) {
        askedDownstream = true;
        downstream.request(1);
      }
    }

    /** Asks upstream for the next response if none is asked for and downstream can take it. */
    private void pullUpstream() {
      if (!askedUpstream && !downstreamClosed && downstream.isReady()) {
        askedUpstream = true;
        upstream.request(1);
      }
    }

    Proxy(ServerCall<byte[], byte[]> downstream, ClientCall<byte[], byte[]> upstream) {
      this.downstream = downstream;
      this.upstream = upstream;
    }

    final ServerCall.Listener<byte[]> downstreamListener =
        new ServerCall.Listener<>() {
          @Override
          public void onMessage(byte[] message) {
            synchronized (lock) {
              askedDownstream = false;
              upstream.sendMessage(message);
              pullDownstream();
            }
          }

          @Override
          public void onHalfClose() {
            synchronized (lock) {
              upstream.halfClose();
            }
          }

          @Override
          public void onCancel() {
            synchronized (lock) {
              downstreamClosed = true;
            }
            upstream.cancel("the downstream call was cancelled", null);
          }

          @Override
          public void onReady() {
            // Downstream can take more responses: ask upstream for the next one.
            synchronized (lock) {
              pullUpstream();
            }
          }
        };

    final ClientCall.Listener<byte[]> upstreamListener =
        new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata headers) {
            synchronized (lock) {
              if (!downstreamClosed && !headersSent) {
                headersSent = true;
                downstream.sendHeaders(headers);
              }
            }
          }

          @Override
          public void onMessage(byte[] message) {
            synchronized (lock) {
              if (downstreamClosed) {
                return;
              }
              if (!headersSent) {
                headersSent = true;
                downstream.sendHeaders(new Metadata());
              }
              askedUpstream = false;
              downstream.sendMessage(message);
              pullUpstream();
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            synchronized (lock) {
              if (downstreamClosed) {
                return;
              }
              downstreamClosed = true;
              downstream.close(status, trailers);
            }
          }

          @Override
          public void onReady() {
            // Upstream can take more requests: ask downstream for the next one.
            synchronized (lock) {
              pullDownstream();
            }
          }
        };
  }

  /** Messages as bytes, untouched. */
  private enum RawBytes implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
      return new BytesStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        // The stream reads the transport's buffer, valid only now: a copy is unavoidable here.
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Lets the transport size and write the message in one step. */
  private static final class BytesStream extends ByteArrayInputStream implements KnownLength, Drainable {
    BytesStream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
