package io.lpcbridge.bench;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.grpc.GrpcTargets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Load through the stock generated Echo stubs, on a {@code BridgeChannel} (bridge rows), on a
 * plain grpc-netty channel with gRPC's own defaults (grpc rows), or on grpc-java's in-process
 * transport to a server in this process ({@link BenchPlan#INPROCESS}), one channel per endpoint.
 *
 * <ul>
 *   <li>unary, one call in flight: the blocking stub on one thread, closed loop or fixed rate;
 *   <li>unary, N in flight: the async stub, each completion starting the next call;
 *   <li>server-stream: N Expand calls at a time, each of {@link RawProtocol#messagesPerCall(int,
 *       int)} messages (4 MiB shared among the N), each call followed by the next;
 *   <li>client-stream: the same with Collect, sending while {@code isReady()};
 *   <li>bidi: N Chat streams, each sending one message and waiting for its answer, repeatedly.
 * </ul>
 */
final class RpcDriver implements Driver {
  private static final int MAX_MESSAGE = 64 << 20;

  private final ManagedChannel channel;
  /** The grpc/inprocess reference's server, in this process; null for every other endpoint. */
  private final Server inProcess;

  RpcDriver(Endpoint endpoint) throws Exception {
    if (endpoint.transport().equals(BenchPlan.INPROCESS)) {
      String name = "bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
      inProcess = InProcessServerBuilder.forName(name).directExecutor().addService(new EchoService()).maxInboundMessageSize(MAX_MESSAGE)
          .build().start();
      // The channel keeps gRPC's default executor: with a direct one, an async call started from the
      // completion of the last would run nested in it, and the stack would overflow.
      channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(MAX_MESSAGE).build();
    } else if (endpoint.stack() == Stack.GRPC) {
      inProcess = null;
      Target target = Target.parse(endpoint.target());
      channel = GrpcTargets.channelBuilder(target, TransportOptions.of(endpoint.options())).maxInboundMessageSize(MAX_MESSAGE).build();
    } else {
      inProcess = null;
      Target target = Target.parse(endpoint.target());
      channel = BridgeChannelBuilder.forTarget(target).transportOptions(endpoint.options()).maxInboundMessageSize(MAX_MESSAGE).build();
    }
    // Connect before the first scenario, and fail early if the server is not there.
    EchoGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance());
  }

  @Override
  public void start(Scenario s, Window w, double rate) {
    EchoRequest payload = EchoRequest.newBuilder().setPayload(randomBytes(s.size())).build();
    switch (s.kind()) {
      case UNARY -> {
        if (s.concurrency() == 1) {
          blockingUnary(payload, s.size(), w, s.mode() == Mode.FIXED ? new Pacer(rate) : null);
        } else {
          for (int i = 0; i < s.concurrency(); i++) {
            w.active.incrementAndGet();
            asyncUnary(EchoGrpc.newStub(channel), payload, s.size(), w);
          }
        }
      }
      case SERVER_STREAM -> {
        EchoRequest req =
            EchoRequest.newBuilder().setResponseSize(s.size()).setResponseCount(RawProtocol.messagesPerCall(s.size(), s.concurrency())).build();
        for (int i = 0; i < s.concurrency(); i++) {
          w.active.incrementAndGet();
          expand(EchoGrpc.newStub(channel), req, w);
        }
      }
      case CLIENT_STREAM -> {
        for (int i = 0; i < s.concurrency(); i++) {
          w.active.incrementAndGet();
          collect(EchoGrpc.newStub(channel), payload, RawProtocol.messagesPerCall(s.size(), s.concurrency()), w);
        }
      }
      case BIDI -> {
        for (int i = 0; i < s.concurrency(); i++) {
          w.active.incrementAndGet();
          new PingPong(payload, s.size(), w).start(EchoGrpc.newStub(channel));
        }
      }
    }
  }

  static ByteString randomBytes(int size) {
    byte[] b = new byte[size];
    ThreadLocalRandom.current().nextBytes(b);
    return ByteString.copyFrom(b);
  }

  private void blockingUnary(EchoRequest req, int size, Window w, Pacer pacer) {
    EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(channel);
    w.active.incrementAndGet();
    Thread.ofPlatform().daemon().name("bench-load").start(() -> {
      try {
        while (w.running()) {
          long t0 = pacer != null ? pacer.next() : System.nanoTime();
          EchoResponse r = stub.say(req);
          long t1 = System.nanoTime();
          if (r.getPayload().size() != size) {
            throw new IllegalStateException("Echo/Say answered " + r.getPayload().size() + " bytes to " + size);
          }
          w.record(t1 - t0);
          if (pacer != null) {
            pacer.ended(t1);
          }
        }
      } catch (Throwable t) {
        w.fail(t);
      } finally {
        w.active.decrementAndGet();
      }
    });
  }

  private static void asyncUnary(EchoGrpc.EchoStub stub, EchoRequest req, int size, Window w) {
    if (!w.running()) {
      w.active.decrementAndGet();
      return;
    }
    long t0 = System.nanoTime();
    stub.say(req, new StreamObserver<>() {
      @Override
      public void onNext(EchoResponse r) {
        if (r.getPayload().size() != size) {
          w.fail(new IllegalStateException("Echo/Say answered " + r.getPayload().size() + " bytes to " + size));
        }
      }

      @Override
      public void onError(Throwable t) {
        w.fail(t);
        w.active.decrementAndGet();
      }

      @Override
      public void onCompleted() {
        w.record(System.nanoTime() - t0);
        asyncUnary(stub, req, size, w);
      }
    });
  }

  private static void expand(EchoGrpc.EchoStub stub, EchoRequest req, Window w) {
    if (!w.running()) {
      w.active.decrementAndGet();
      return;
    }
    stub.expand(req, new StreamObserver<>() {
      int received;

      @Override
      public void onNext(EchoResponse r) {
        received++;
        w.count(1);
      }

      @Override
      public void onError(Throwable t) {
        w.fail(t);
        w.active.decrementAndGet();
      }

      @Override
      public void onCompleted() {
        if (received != req.getResponseCount()) {
          w.fail(new IllegalStateException("Echo/Expand sent " + received + " of " + req.getResponseCount() + " messages"));
        }
        expand(stub, req, w);
      }
    });
  }

  private static void collect(EchoGrpc.EchoStub stub, EchoRequest req, int count, Window w) {
    if (!w.running()) {
      w.active.decrementAndGet();
      return;
    }
    Collector c = new Collector(stub, req, count, w);
    stub.collect(c);
    // Also pump once from here: isReady() may be asked at any time, and a call that is ready at
    // once need not wait for onReady (the bridge does not deliver the first one; see the report).
    c.pump();
  }

  /** One Collect call: sends while isReady(), half-closes after {@code count} messages. */
  private static final class Collector implements ClientResponseObserver<EchoRequest, EchoResponse> {
    private final EchoGrpc.EchoStub stub;
    private final EchoRequest req;
    private final int count;
    private final Window w;
    private ClientCallStreamObserver<EchoRequest> out;
    private int sent;
    private boolean halfClosed;

    Collector(EchoGrpc.EchoStub stub, EchoRequest req, int count, Window w) {
      this.stub = stub;
      this.req = req;
      this.count = count;
      this.w = w;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<EchoRequest> requestStream) {
      out = requestStream;
      out.setOnReadyHandler(this::pump);
    }

    /** From onReady (the call's executor) and once from the starting thread. */
    synchronized void pump() {
      while (out.isReady() && sent < count) {
        out.onNext(req);
        sent++;
        w.count(1);
      }
      if (sent == count && !halfClosed) {
        halfClosed = true;
        out.onCompleted();
      }
    }

    @Override
    public void onNext(EchoResponse r) {
      if (r.getReceivedCount() != count) {
        w.fail(new IllegalStateException("Echo/Collect received " + r.getReceivedCount() + " of " + count + " messages"));
      }
    }

    @Override
    public void onError(Throwable t) {
      w.fail(t);
      w.active.decrementAndGet();
    }

    @Override
    public void onCompleted() {
      collect(stub, req, count, w);
    }
  }

  /** One Chat stream: a message out, wait for its answer, the next message out. */
  private static final class PingPong implements ClientResponseObserver<EchoRequest, EchoResponse> {
    private final EchoRequest req;
    private final int size;
    private final Window w;
    private ClientCallStreamObserver<EchoRequest> out;
    private long sentAt;

    PingPong(EchoRequest req, int size, Window w) {
      this.req = req;
      this.size = size;
      this.w = w;
    }

    void start(EchoGrpc.EchoStub stub) {
      stub.chat(this);
      sentAt = System.nanoTime();
      out.onNext(req);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<EchoRequest> requestStream) {
      out = requestStream;
    }

    @Override
    public void onNext(EchoResponse r) {
      long now = System.nanoTime();
      if (r.getPayload().size() != size) {
        w.fail(new IllegalStateException("Echo/Chat answered " + r.getPayload().size() + " bytes to " + size));
      }
      w.record(now - sentAt);
      if (w.running()) {
        sentAt = System.nanoTime();
        out.onNext(req);
      } else {
        out.onCompleted();
      }
    }

    @Override
    public void onError(Throwable t) {
      w.fail(t);
      w.active.decrementAndGet();
    }

    @Override
    public void onCompleted() {
      w.active.decrementAndGet();
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    if (inProcess != null) {
      inProcess.shutdownNow();
    }
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
