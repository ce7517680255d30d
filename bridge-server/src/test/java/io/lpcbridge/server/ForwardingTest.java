package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.KeyValueService;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import io.lpcbridge.kv.v1.GetRequest;
import io.lpcbridge.kv.v1.KeyValueGrpc;
import io.lpcbridge.kv.v1.PutRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forwarding bridge in one JVM: an application calls bridge A over a Unix socket; A hosts
 * KeyValue itself and forwards everything else, byte for byte, over tcp to backend B, which hosts
 * Echo. (it/ runs the same chain across network namespaces.)
 */
class ForwardingTest {
  static final Metadata.Key<String> TRACE = Metadata.Key.of("x-trace", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir Path dir;
  private final List<Runnable> cleanup = new ArrayList<>();

  /** A backend: Echo, health, and a record of what its calls saw. */
  final class Backend {
    final EchoService echo = new EchoService();
    final HealthStatusManager health = new HealthStatusManager();
    final BlockingQueue<String> events = new LinkedBlockingQueue<>();
    final AtomicInteger messagesSent = new AtomicInteger();
    final BridgeServer server;

    Backend() throws Exception {
      ServerInterceptor observe =
          new ServerInterceptor() {
            @Override
            public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
                ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
              String trace = headers.get(TRACE);
              ServerCall<ReqT, RespT> wrapped =
                  new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void sendHeaders(Metadata h) {
                      if (trace != null) {
                        h.put(TRACE, "back:" + trace);
                      }
                      super.sendHeaders(h);
                    }

                    @Override
                    public void sendMessage(RespT message) {
                      messagesSent.incrementAndGet();
                      super.sendMessage(message);
                    }
                  };
              return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(wrapped, headers)) {
                @Override
                public void onCancel() {
                  events.add("cancel:" + call.getMethodDescriptor().getBareMethodName() + ":" + trace);
                  super.onCancel();
                }
              };
            }
          };
      server =
          BridgeServerBuilder.forTargets("tcp://127.0.0.1:0")
              .addService(echo)
              .addService(health.getHealthService())
              .intercept(observe)
              .build()
              .start();
      cleanup.add(server::shutdownNow);
    }

    String target() {
      return server.targets().getFirst().toString();
    }
  }

  /** Bridge A on a Unix socket, hosting KeyValue and forwarding the rest to {@code upstream}. */
  private String bridge(ManagedChannel upstream, String name) throws Exception {
    cleanup.add(upstream::shutdownNow);
    BridgeServer a =
        BridgeServerBuilder.forTargets("unix://" + dir.resolve(name + ".sock"))
            .addService(new KeyValueService())
            .forwardTo(upstream)
            .build()
            .start();
    cleanup.add(a::shutdownNow);
    return a.targets().getFirst().toString();
  }

  private ManagedChannel client(String target) {
    ManagedChannel ch = BridgeChannelBuilder.forTarget(target).build();
    cleanup.add(ch::shutdownNow);
    return ch;
  }

  @AfterEach
  void tearDown() {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      cleanup.get(i).run();
    }
  }

  private static EchoRequest payload(String s) {
    return EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8(s)).build();
  }

  @Test
  void allFourCallKindsPassThroughAndHostedServicesStayLocal() throws Exception {
    Backend b = new Backend();
    ManagedChannel ch = client(bridge(BridgeChannelBuilder.forTarget(b.target()).build(), "a"));
    EchoGrpc.EchoBlockingStub blocking = EchoGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);

    assertEquals("unary", blocking.say(payload("unary")).getPayload().toStringUtf8());

    Iterator<EchoResponse> it = blocking.expand(payload("s").toBuilder().setResponseCount(50).build());
    int n = 0;
    while (it.hasNext()) {
      assertEquals(n++, it.next().getIndex());
    }
    assertEquals(50, n);

    CompletableFuture<EchoResponse> collected = new CompletableFuture<>();
    StreamObserver<EchoRequest> up = EchoGrpc.newStub(ch).collect(observer(collected));
    for (int i = 0; i < 40; i++) {
      up.onNext(payload("abcd"));
    }
    up.onCompleted();
    assertEquals(40, collected.get(20, TimeUnit.SECONDS).getReceivedCount());

    List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<EchoRequest> chat =
        EchoGrpc.newStub(ch)
            .chat(
                new StreamObserver<>() {
                  @Override
                  public void onNext(EchoResponse v) {
                    got.add(v.getPayload().toStringUtf8());
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.countDown();
                  }

                  @Override
                  public void onCompleted() {
                    done.countDown();
                  }
                });
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      sent.add("m" + i);
      chat.onNext(payload("m" + i));
    }
    chat.onCompleted();
    assertTrue(done.await(20, TimeUnit.SECONDS));
    assertEquals(sent, got);
    assertEquals(4, b.echo.executions(), "every Echo call reached the backend once");

    // KeyValue is hosted by the bridge itself: the backend does not have it.
    KeyValueGrpc.KeyValueBlockingStub kv = KeyValueGrpc.newBlockingStub(ch);
    kv.put(PutRequest.newBuilder().setKey("k").setValue(ByteString.copyFromUtf8("v")).build());
    assertEquals("v", kv.get(GetRequest.newBuilder().setKey("k").build()).getValue().toStringUtf8());
  }

  private static <T> StreamObserver<T> observer(CompletableFuture<T> result) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T v) {
        result.complete(v);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {}
    };
  }

  @Test
  void metadataStatusDeadlineAndCancellationPropagate() throws Exception {
    Backend b = new Backend();
    ManagedChannel ch = client(bridge(BridgeChannelBuilder.forTarget(b.target()).build(), "a"));
    Metadata md = new Metadata();
    md.put(TRACE, "t1");
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    EchoGrpc.newBlockingStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md), MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
        .say(EchoRequest.getDefaultInstance());
    assertEquals("back:t1", headers.get().get(TRACE));

    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                EchoGrpc.newBlockingStub(ch)
                    .say(EchoRequest.newBuilder().setFailWithCode(Status.Code.PERMISSION_DENIED.value()).setFailWithMessage("nope ☺").build()));
    assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
    assertEquals("nope ☺", e.getStatus().getDescription());

    // The deadline travels upstream: the backend's handler is cancelled when it passes.
    md = new Metadata();
    md.put(TRACE, "deadline");
    Metadata deadlineMd = md;
    e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                EchoGrpc.newBlockingStub(ch)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(deadlineMd))
                    .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .say(EchoRequest.newBuilder().setDelayMillis(3000).build()));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertEquals("cancel:Say:deadline", b.events.poll(10, TimeUnit.SECONDS));

    // Cancellation travels upstream.
    md = new Metadata();
    md.put(TRACE, "cancel");
    CompletableFuture<Throwable> failed = new CompletableFuture<>();
    CountDownLatch first = new CountDownLatch(1);
    AtomicReference<ClientCallStreamObserver<EchoRequest>> call = new AtomicReference<>();
    EchoGrpc.newStub(ch)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
        .chat(
            new ClientResponseObserver<EchoRequest, EchoResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<EchoRequest> r) {
                call.set(r);
              }

              @Override
              public void onNext(EchoResponse v) {
                first.countDown();
              }

              @Override
              public void onError(Throwable t) {
                failed.complete(t);
              }

              @Override
              public void onCompleted() {}
            });
    call.get().onNext(EchoRequest.getDefaultInstance());
    assertTrue(first.await(10, TimeUnit.SECONDS));
    call.get().cancel("user gave up", null);
    assertEquals(Status.Code.CANCELLED, Status.fromThrowable(failed.get(10, TimeUnit.SECONDS)).getCode());
    assertEquals("cancel:Chat:cancel", b.events.poll(10, TimeUnit.SECONDS));
  }

  @Test
  void aSlowConsumerSlowsTheProducerThroughTheBridge() throws Exception {
    Backend b = new Backend();
    ManagedChannel ch = client(bridge(BridgeChannelBuilder.forTarget(b.target()).build(), "a"));
    int count = 2000;
    BlockingQueue<EchoResponse> received = new LinkedBlockingQueue<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicReference<ClientCallStreamObserver<EchoRequest>> call = new AtomicReference<>();
    EchoGrpc.newStub(ch)
        .expand(
            EchoRequest.newBuilder().setResponseCount(count).setResponseSize(64 * 1024).build(),
            new ClientResponseObserver<EchoRequest, EchoResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<EchoRequest> r) {
                call.set(r);
                r.disableAutoRequestWithInitial(1);
              }

              @Override
              public void onNext(EchoResponse v) {
                received.add(v);
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(null);
              }
            });
    assertNotNull(received.poll(10, TimeUnit.SECONDS));
    // The client asks for nothing more: whatever the backend sends now piles up in windows and
    // socket buffers along the chain, which are bounded. 2000 x 64 KiB would be 125 MiB.
    long stalledAt = System.nanoTime();
    int before;
    do {
      before = b.messagesSent.get();
      Thread.sleep(300);
    } while (b.messagesSent.get() != before && System.nanoTime() - stalledAt < TimeUnit.SECONDS.toNanos(10));
    int sentWhileStalled = b.messagesSent.get();
    System.out.println("backend sent " + sentWhileStalled + " messages of 64 KiB while the consumer stalled");
    assertTrue(sentWhileStalled < 300, "the backend kept producing while the consumer stalled: " + sentWhileStalled + " messages");
    // Then everything arrives, in order.
    call.get().request(count);
    for (int i = 1; i < count; i++) {
      EchoResponse r = received.poll(20, TimeUnit.SECONDS);
      assertNotNull(r, "message " + i + " never came");
      assertEquals(i, r.getIndex());
    }
    done.get(20, TimeUnit.SECONDS);
  }

  @Test
  void roundRobinSpreadsAndPickFirstSticks() throws Exception {
    Backend b1 = new Backend();
    Backend b2 = new Backend();
    ManagedChannel rr =
        client(
            bridge(
                BridgeChannelBuilder.forTargets(b1.target(), b2.target()).defaultLoadBalancingPolicy("round_robin").build(),
                "rr"));
    awaitBothReady(rr);
    for (int i = 0; i < 20; i++) {
      EchoGrpc.newBlockingStub(rr).say(EchoRequest.getDefaultInstance());
    }
    assertTrue(b1.echo.executions() >= 5 && b2.echo.executions() >= 5, b1.echo.executions() + " / " + b2.echo.executions());

    long b1Before = b1.echo.executions();
    long b2Before = b2.echo.executions();
    ManagedChannel pf = client(bridge(BridgeChannelBuilder.forTargets(b1.target(), b2.target()).build(), "pf"));
    for (int i = 0; i < 10; i++) {
      EchoGrpc.newBlockingStub(pf).withWaitForReady().say(EchoRequest.getDefaultInstance());
    }
    assertEquals(b1Before + 10, b1.echo.executions());
    assertEquals(b2Before, b2.echo.executions());
  }

  private static void awaitBothReady(ManagedChannel ch) throws InterruptedException {
    // The balancing channel connects to every host at start; give the connections a moment.
    for (int i = 0; i < 50; i++) {
      EchoGrpc.newBlockingStub(ch).withWaitForReady().say(EchoRequest.getDefaultInstance());
      Thread.sleep(10);
    }
  }

  @Test
  void healthCheckingAndFailoverMoveCallsToTheHealthyHost() throws Exception {
    Backend b1 = new Backend();
    Backend b2 = new Backend();
    ManagedChannel ch =
        client(
            bridge(
                BridgeChannelBuilder.forTargets(b1.target(), b2.target()).healthCheck("", Duration.ofMillis(100)).build(),
                "hc"));
    EchoGrpc.newBlockingStub(ch).withWaitForReady().say(EchoRequest.getDefaultInstance());
    assertEquals(1, b1.echo.executions(), "pick_first: the first host serves while healthy");

    b1.health.setStatus("", ServingStatus.NOT_SERVING);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (b2.echo.executions() == 0 && System.nanoTime() < deadline) {
      EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
      Thread.sleep(20);
    }
    assertTrue(b2.echo.executions() > 0, "calls never moved to the healthy host");
    long b1Now = b1.echo.executions();
    for (int i = 0; i < 10; i++) {
      EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
    }
    assertEquals(b1Now, b1.echo.executions(), "an unhealthy host got calls");

    // The first host is healthy again and the second dies: calls fail over without a restart.
    b1.health.setStatus("", ServingStatus.SERVING);
    b2.server.shutdownNow();
    b2.server.awaitTermination(10, TimeUnit.SECONDS);
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    boolean served = false;
    while (!served && System.nanoTime() < deadline) {
      try {
        EchoGrpc.newBlockingStub(ch).withDeadlineAfter(2, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance());
        served = true;
      } catch (StatusRuntimeException e) {
        Thread.sleep(50);
      }
    }
    assertTrue(served, "no call succeeded after the host died");
    assertTrue(b1.echo.executions() > b1Now);
  }
}
