package io.lpcbridge.bench.jmh;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.lpcbridge.core.ByteBufferInputStream;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A unary Echo call through the stock generated blocking stub, on one thread, with no transport:
 * what the bridge's transports are measured against.
 *
 * <ul>
 *   <li>{@code grpcInProcess}: grpc-java's in-process transport, client and server on {@code
 *       directExecutor()}. Messages are <em>not</em> serialized: the transport hands the
 *       marshaller's stream over as it is, and grpc-protobuf's marshaller, given back its own
 *       {@code ProtoInputStream}, returns the message object inside it (the server's response
 *       payload is the very {@code ByteString} the client sent). It still pays for ClientCallImpl,
 *       ServerImpl, their executors and the blocking stub's ThreadlessExecutor.
 *   <li>{@code stubFloor}: the least any transport can cost under stock stubs. A {@link Channel}
 *       written here hands each call to the service's real {@code ServerCallHandler} through a
 *       minimal {@link ServerCall}, synchronously: the request is serialized to a byte[] and parsed
 *       back with the method's marshaller, likewise the response, and the listeners on both sides
 *       are called directly, in gRPC's order (not through the call's executor, the blocking stub's
 *       ThreadlessExecutor). What remains is grpc-stub's ClientCalls and ServerCalls, the service,
 *       and protobuf both ways; the few small objects this harness adds per call are noise next to
 *       that. Serialization makes it grow with the payload, unlike {@code grpcInProcess}.
 * </ul>
 */
public class StubFloorBenchmark extends NanosPerCall {
  @Param({"64", "1024"})
  int size;

  private EchoRequest request;
  private Server server;
  private ManagedChannel inProcess;
  private EchoGrpc.EchoBlockingStub inProcessStub;
  private EchoGrpc.EchoBlockingStub floorStub;

  @Setup
  public void setUp() throws IOException {
    request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[size])).build();
    String name = "stub-floor-" + UUID.randomUUID();
    server = InProcessServerBuilder.forName(name).directExecutor().addService(new EchoService()).build().start();
    inProcess = InProcessChannelBuilder.forName(name).directExecutor().build();
    inProcessStub = EchoGrpc.newBlockingStub(inProcess);
    floorStub = EchoGrpc.newBlockingStub(directChannel(new EchoService().bindService()));
    for (EchoResponse response : List.of(grpcInProcess(), stubFloor())) {
      if (response.getPayload().size() != size) {
        throw new IllegalStateException("answered " + response.getPayload().size() + " bytes to " + size);
      }
    }
  }

  @Benchmark
  public EchoResponse grpcInProcess() {
    return inProcessStub.say(request);
  }

  @Benchmark
  public EchoResponse stubFloor() {
    return floorStub.say(request);
  }

  @TearDown
  public void tearDown() throws InterruptedException {
    inProcess.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** A message's bytes, as a transport sends them, parsed as the bridge's transports hand them over. */
  private static <T> T copy(MethodDescriptor.Marshaller<T> from, MethodDescriptor.Marshaller<T> to, T message) {
    byte[] b;
    try (InputStream in = from.stream(message)) {
      // grpc-protobuf's streams know their length (KnownLength) and write into an array that fits.
      b = new byte[in.available()];
      if (in.readNBytes(b, 0, b.length) != b.length || in.read() != -1) {
        throw new IllegalStateException("the stream's length was not what it said");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return to.parse(new ByteBufferInputStream(ByteBuffer.wrap(b)));
  }

  /**
   * One direction of a unary call: at most one message, delivered once asked for, then the end
   * (half-close or close), after the message. A callback that calls back in (a {@code request})
   * only updates the state; the loop already running delivers what is due, in order.
   */
  private static final class Inbox<T> {
    Consumer<T> sink;
    private T message;
    private Runnable end;
    private int demand;
    private boolean ended;
    private boolean draining;

    void request(int n) {
      demand += n;
      drain();
    }

    void add(T m) {
      if (message != null || ended) {
        throw new IllegalStateException("a unary call carries one message before its end");
      }
      message = m;
      drain();
    }

    void end(Runnable r) {
      if (!ended) {
        ended = true;
        end = r;
        drain();
      }
    }

    private void drain() {
      if (draining) {
        return;
      }
      draining = true;
      try {
        while (message != null ? demand > 0 : end != null) {
          if (message != null) {
            T m = message;
            message = null;
            demand--;
            sink.accept(m);
          } else {
            Runnable r = end;
            end = null;
            r.run();
          }
        }
      } finally {
        draining = false;
      }
    }
  }

  /** A channel straight to a service's handlers: each call is served on the calling thread. */
  private static Channel directChannel(ServerServiceDefinition service) {
    return new Channel() {
      @Override
      @SuppressWarnings("unchecked")
      public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(MethodDescriptor<ReqT, RespT> method, CallOptions options) {
        var served = (ServerMethodDefinition<ReqT, RespT>) service.getMethod(method.getFullMethodName());
        return new DirectCall<>(method, Objects.requireNonNull(served, method.getFullMethodName()));
      }

      @Override
      public String authority() {
        return "stub-floor";
      }
    };
  }

  /** The client's side of a call; the server's side starts at half-close, with the one request. */
  private static final class DirectCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final MethodDescriptor<ReqT, RespT> method;
    private final ServerMethodDefinition<ReqT, RespT> served;
    private final Inbox<RespT> responses = new Inbox<>();
    private Listener<RespT> listener;
    private Metadata headers;
    private ReqT request;

    DirectCall(MethodDescriptor<ReqT, RespT> method, ServerMethodDefinition<ReqT, RespT> served) {
      this.method = method;
      this.served = served;
    }

    @Override
    public void start(Listener<RespT> l, Metadata h) {
      listener = l;
      headers = h;
      responses.sink = l::onMessage;
    }

    @Override
    public void request(int n) {
      responses.request(n);
    }

    @Override
    public void sendMessage(ReqT message) {
      request = message;
    }

    @Override
    public void cancel(String message, Throwable cause) {
      responses.end(() -> listener.onClose(Status.CANCELLED.withDescription(message).withCause(cause), new Metadata()));
    }

    @Override
    public void halfClose() {
      Served call = new Served();
      ServerCall.Listener<ReqT> l = served.getServerCallHandler().startCall(call, headers);
      call.listener = l;
      call.requests.sink = l::onMessage;
      l.onReady();
      call.inHalfClose = true;
      try {
        if (request != null) {
          call.requests.add(copy(method.getRequestMarshaller(), served.getMethodDescriptor().getRequestMarshaller(), request));
        }
        call.requests.end(l::onHalfClose);
      } finally {
        call.inHalfClose = false;
      }
      if (call.closed) {
        l.onComplete(); // once the half-close that led to it has returned, as gRPC does
      }
    }

    /** The server's side: what the handler sends goes, as bytes, straight to the client's side. */
    private final class Served extends ServerCall<ReqT, RespT> {
      final Inbox<ReqT> requests = new Inbox<>();
      ServerCall.Listener<ReqT> listener;
      boolean inHalfClose;
      boolean closed;

      @Override
      public void request(int n) {
        requests.request(n);
      }

      @Override
      public void sendHeaders(Metadata h) {
        DirectCall.this.listener.onHeaders(h);
      }

      @Override
      public void sendMessage(RespT message) {
        responses.add(copy(getMethodDescriptor().getResponseMarshaller(), method.getResponseMarshaller(), message));
      }

      @Override
      public void close(Status status, Metadata trailers) {
        closed = true;
        responses.end(() -> DirectCall.this.listener.onClose(status, trailers));
        if (!inHalfClose) {
          listener.onComplete();
        }
      }

      @Override
      public boolean isCancelled() {
        return false;
      }

      @Override
      public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
        return served.getMethodDescriptor();
      }
    }
  }
}
