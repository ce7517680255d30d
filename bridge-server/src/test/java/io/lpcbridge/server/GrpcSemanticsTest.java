package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Deadline;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** Deadlines, cancellation, metadata, interceptors, flow control and limits behave as in gRPC. */
class GrpcSemanticsTest {
  static final List<String> SCHEMES = TestServers.SCHEMES;
  static final Metadata.Key<String> TRACE = Metadata.Key.of("x-trace", Metadata.ASCII_STRING_MARSHALLER);
  static final Metadata.Key<byte[]> BLOB = Metadata.Key.of("x-blob-bin", Metadata.BINARY_BYTE_MARSHALLER);
  /** The authority the server saw, sent back in the response headers. */
  static final Metadata.Key<String> SEEN_AUTHORITY = Metadata.Key.of("x-seen-authority", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<String> TRACE_CTX = Context.key("trace");

  static TestServers servers;
  static final BlockingQueue<String> serverEvents = new LinkedBlockingQueue<>();

  /** Echoes x-trace back in headers and x-blob-bin in trailers, and puts x-trace in the Context. */
  static final class EchoMetadataInterceptor implements ServerInterceptor {
    @Override
    public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
        ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
      String trace = headers.get(TRACE);
      byte[] blob = headers.get(BLOB);
      ServerCall<ReqT, RespT> wrapped =
          new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void sendHeaders(Metadata h) {
              if (trace != null) {
                h.put(TRACE, trace);
              }
              if (call.getAuthority() != null) {
                h.put(SEEN_AUTHORITY, call.getAuthority());
              }
              super.sendHeaders(h);
            }

            @Override
            public void close(Status status, Metadata trailers) {
              if (blob != null) {
                trailers.put(BLOB, blob);
              }
              super.close(status, trailers);
            }
          };
      Context ctx = Context.current().withValue(TRACE_CTX, trace);
      ServerCall.Listener<ReqT> l = Contexts.interceptCall(ctx, wrapped, headers, next);
      return new io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener<>(l) {
        @Override
        public void onCancel() {
          serverEvents.add("cancel:" + call.getMethodDescriptor().getBareMethodName() + ":" + trace);
          super.onCancel();
        }
      };
    }
  }

  @BeforeAll
  static void start() throws Exception {
    servers = new TestServers(new EchoMetadataInterceptor());
  }

  @AfterAll
  static void stop() throws Exception {
    servers.close();
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void metadataTravelsBothWaysThroughInterceptors(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    Metadata out = new Metadata();
    out.put(TRACE, "t-" + scheme);
    out.put(BLOB, new byte[] {0, 1, (byte) 0xfe});
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    EchoGrpc.EchoBlockingStub stub =
        EchoGrpc.newBlockingStub(ch)
            .withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(out),
                MetadataUtils.newCaptureMetadataInterceptor(headers, trailers));
    stub.say(EchoRequest.getDefaultInstance());
    assertEquals("t-" + scheme, headers.get().get(TRACE));
    assertTrue(java.util.Arrays.equals(new byte[] {0, 1, (byte) 0xfe}, trailers.get().get(BLOB)));
  }

  /**
   * A blocking call made from an interrupted thread (grpc-java cancels it: CANCELLED, or its answer
   * if that came first) takes nothing else down: a call started before it on the same channel
   * still completes, and the channel still carries calls. A transport whose channel closes when an
   * interrupted thread writes to it (junixsocket's do) would fail them all with UNAVAILABLE.
   */
  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aCallFromAnInterruptedThreadLeavesTheOtherCallsOnItsChannelAlone(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    EchoGrpc.EchoBlockingStub stub = EchoGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
    stub.say(EchoRequest.getDefaultInstance()); // connected
    com.google.common.util.concurrent.ListenableFuture<EchoResponse> inFlight =
        EchoGrpc.newFutureStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
            .say(EchoRequest.newBuilder().setDelayMillis(300).setPayload(ByteString.copyFromUtf8("in flight")).build());
    try {
      for (int i = 0; i < 20; i++) {
        Thread.currentThread().interrupt();
        try {
          stub.say(EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8("interrupted " + i)).build());
        } catch (StatusRuntimeException e) {
          assertEquals(Status.Code.CANCELLED, e.getStatus().getCode(), "call " + i + " from an interrupted thread: " + e.getStatus());
        }
      }
    } finally {
      Thread.interrupted();
    }
    assertEquals("in flight", inFlight.get(20, TimeUnit.SECONDS).getPayload().toStringUtf8(), "the call in flight");
    assertEquals("after", stub.say(EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8("after")).build()).getPayload().toStringUtf8());
  }

  /**
   * As in gRPC, a call names the target's host and port (or name), or localhost where it has none
   * (grpc-java's choice for Unix sockets), never the whole target: that of a spawned pipe: or
   * socketpair: peer is its command line. overrideAuthority and CallOptions.withAuthority win.
   */
  @ParameterizedTest
  @FieldSource("SCHEMES")
  void authorityIsTheTargetsHostOrLocalhostUnlessOverridden(String scheme) {
    String target = servers.target(scheme);
    String expected =
        switch (TestServers.schemeOf(scheme)) {
          case "tcp", "grpc", "udp" -> "127.0.0.1:" + target.substring(target.lastIndexOf(':') + 1);
          case "shm" -> target.substring("shm://".length());
          default -> "localhost";
        };
    assertEquals(expected, seenAuthority(EchoGrpc.newBlockingStub(servers.channel(scheme))));
    ManagedChannel overridden =
        servers.channel(
            io.lpcbridge.client.BridgeChannelBuilder.forTarget(target)
                .transportOptions(TestServers.optionsOf(scheme))
                .overrideAuthority("kv.example:443"));
    assertEquals("kv.example:443", seenAuthority(EchoGrpc.newBlockingStub(overridden)));
    assertEquals("per-call.example", seenAuthority(
            EchoGrpc.newBlockingStub(overridden)
                .withInterceptors(
                    new ClientInterceptor() {
                      @Override
                      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
                          MethodDescriptor<ReqT, RespT> method, CallOptions options, Channel next) {
                        return next.newCall(method, options.withAuthority("per-call.example"));
                      }
                    })));
  }

  private static String seenAuthority(EchoGrpc.EchoBlockingStub stub) {
    AtomicReference<Metadata> headers = new AtomicReference<>();
    AtomicReference<Metadata> trailers = new AtomicReference<>();
    stub.withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers)).say(EchoRequest.getDefaultInstance());
    return headers.get().get(SEEN_AUTHORITY);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void deadlineExpiresWithDeadlineExceeded(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    long t0 = System.nanoTime();
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                EchoGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .say(EchoRequest.newBuilder().setDelayMillis(20_000).build()));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(15), "the call hung past its deadline");
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void expiredDeadlineFailsAtOnce(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                EchoGrpc.newBlockingStub(ch)
                    .withDeadline(Deadline.after(-1, TimeUnit.SECONDS))
                    .say(EchoRequest.getDefaultInstance()));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void deadlineCancelsTheServerHandler(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    serverEvents.clear();
    assertThrows(
        StatusRuntimeException.class,
        () ->
            EchoGrpc.newBlockingStub(ch)
                .withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(trace("deadline-" + scheme)))
                .say(EchoRequest.newBuilder().setDelayMillis(2_000).build()));
    assertEquals("cancel:Say:deadline-" + scheme, awaitServerEvent("cancel:Say:deadline-" + scheme));
  }

  /**
   * The server event {@code expected}, skipping others: calls of earlier tests (e.g. a handler still
   * sleeping past its client's deadline) may report their cancellation late.
   */
  private static String awaitServerEvent(String expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    String ev = null;
    while (System.nanoTime() < deadline) {
      ev = serverEvents.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (expected.equals(ev)) {
        return ev;
      }
    }
    return ev;
  }

  private static Metadata trace(String value) {
    Metadata md = new Metadata();
    md.put(TRACE, value);
    return md;
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void contextCancellationCancelsTheCallOnBothSides(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    serverEvents.clear();
    CompletableFuture<Throwable> clientError = new CompletableFuture<>();
    CountDownLatch firstResponse = new CountDownLatch(1);
    Context.CancellableContext ctx = Context.current().withCancellation();
    StreamObserver<EchoRequest> req =
        ctx.call(
            () ->
                EchoGrpc.newStub(ch)
                    .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(trace("cancel-" + scheme)))
                    .chat(
                        new StreamObserver<>() {
                          @Override
                          public void onNext(EchoResponse v) {
                            firstResponse.countDown();
                          }

                          @Override
                          public void onError(Throwable t) {
                            clientError.complete(t);
                          }

                          @Override
                          public void onCompleted() {
                            clientError.complete(null);
                          }
                        }));
    req.onNext(EchoRequest.getDefaultInstance());
    assertTrue(firstResponse.await(10, TimeUnit.SECONDS));
    ctx.cancel(new RuntimeException("user navigated away"));
    Throwable t = clientError.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.CANCELLED, Status.fromThrowable(t).getCode());
    assertEquals("cancel:Chat:cancel-" + scheme, awaitServerEvent("cancel:Chat:cancel-" + scheme));
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void cancelBeforeStartAndAfterCloseAreHarmless(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    ClientCall<EchoRequest, EchoResponse> call = ch.newCall(EchoGrpc.getSayMethod(), CallOptions.DEFAULT);
    call.cancel("early", null);
    CompletableFuture<Status> early = new CompletableFuture<>();
    try {
      call.start(
          new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
              early.complete(status);
            }
          },
          new Metadata());
      assertEquals(Status.Code.CANCELLED, early.get(10, TimeUnit.SECONDS).getCode());
    } catch (IllegalStateException e) {
      // Stock grpc-java (the reference) throws instead once its channel is connected; the bridge
      // always reports the cancellation to the listener, as grpc-java does on a new channel.
      assertEquals("grpc", scheme, "the bridge should not throw: " + e);
    }
    // After a normal close, cancel does nothing.
    ClientCall<EchoRequest, EchoResponse> done = ch.newCall(EchoGrpc.getSayMethod(), CallOptions.DEFAULT);
    CompletableFuture<Status> closed = new CompletableFuture<>();
    done.start(
        new ClientCall.Listener<>() {
          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    done.request(1);
    done.sendMessage(EchoRequest.getDefaultInstance());
    done.halfClose();
    assertEquals(Status.Code.OK, closed.get(10, TimeUnit.SECONDS).getCode());
    done.cancel("too late", null);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void clientInterceptorsRunInOrder(String scheme) {
    List<String> order = new java.util.concurrent.CopyOnWriteArrayList<>();
    ClientInterceptor a = named("a", order);
    ClientInterceptor b = named("b", order);
    Channel ch = ClientInterceptors.intercept(servers.channel(scheme), a, b);
    EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
    // ClientInterceptors.intercept: the last one given is called first.
    assertEquals(List.of("b", "a"), order);
  }

  private static ClientInterceptor named(String name, List<String> order) {
    return new ClientInterceptor() {
      @Override
      public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
          MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
          @Override
          public void start(Listener<RespT> l, Metadata h) {
            order.add(name);
            super.start(l, h);
          }
        };
      }
    };
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void slowConsumerSlowsTheProducerAndLosesNothing(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    int count = 3000;
    BlockingQueue<EchoResponse> received = new LinkedBlockingQueue<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    AtomicReference<ClientCallStreamObserver<EchoRequest>> call = new AtomicReference<>();
    EchoGrpc.newStub(ch)
        .expand(
            EchoRequest.newBuilder().setResponseCount(count).setResponseSize(4096).build(),
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
    // Take one message at a time, slowly at first: the server must wait for credit.
    for (int i = 0; i < count; i++) {
      EchoResponse r = received.poll(10, TimeUnit.SECONDS);
      assertNotNull(r, "message " + i + " never came");
      assertEquals(i, r.getIndex());
      if (i < 5) {
        Thread.sleep(20);
      }
      call.get().request(1);
    }
    done.get(10, TimeUnit.SECONDS);
  }

  /**
   * A response listener that throws cancels its call, as in grpc-java: onClose says CANCELLED,
   * "Failed to read message.", with the exception as the cause, and no message comes after the
   * one that threw. The channel carries on.
   */
  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aListenerThatThrowsCancelsItsCall(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    ClientCall<EchoRequest, EchoResponse> call = ch.newCall(EchoGrpc.getExpandMethod(), CallOptions.DEFAULT);
    RuntimeException boom = new IllegalStateException("the application's listener broke");
    List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<Status> closed = new CompletableFuture<>();
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(EchoResponse message) {
            seen.add(message.getIndex());
            call.request(1);
            if (message.getIndex() == 2) {
              throw boom;
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            closed.complete(status);
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(EchoRequest.newBuilder().setResponseCount(1000).setResponseSize(64).build());
    call.halfClose();
    Status status = closed.get(10, TimeUnit.SECONDS);
    assertEquals(Status.Code.CANCELLED, status.getCode(), status.toString());
    assertEquals("Failed to read message.", status.getDescription());
    assertEquals(boom, status.getCause());
    assertEquals(List.of(0, 1, 2), seen);
    EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
  }

  /**
   * A zero-copy marshaller, as written for grpc-netty's inbound streams, gets the message's bytes
   * in place (HasByteBuffer) and may detach them to keep after parse returns (Detachable). What it
   * kept stays intact after the transport has reused its memory: 300 messages of 4 KiB go round a
   * 1 MiB shm ring more than once before any of them is read.
   */
  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aZeroCopyMarshallerMayKeepWhatItDetached(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    List<String> how = new java.util.concurrent.CopyOnWriteArrayList<>();
    MethodDescriptor.Marshaller<InputStream> keep =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(InputStream value) {
            return value;
          }

          @Override
          public InputStream parse(InputStream stream) {
            if (stream instanceof io.grpc.Detachable d && stream instanceof io.grpc.HasByteBuffer h && h.byteBufferSupported()) {
              how.add("detached");
              return d.detach();
            }
            how.add("copied");
            try {
              return new ByteArrayInputStream(stream.readAllBytes());
            } catch (java.io.IOException e) {
              throw new java.io.UncheckedIOException(e);
            }
          }
        };
    MethodDescriptor<EchoRequest, InputStream> expand =
        EchoGrpc.getExpandMethod().toBuilder(EchoGrpc.getExpandMethod().getRequestMarshaller(), keep).build();
    byte[] pattern = new byte[4096];
    new java.util.Random(11).nextBytes(pattern);
    int count = 300;
    EchoRequest req = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(pattern)).setResponseCount(count).build();
    List<InputStream> kept = new java.util.ArrayList<>();
    ClientCalls.blockingServerStreamingCall(ch, expand, CallOptions.DEFAULT, req).forEachRemaining(kept::add);
    assertEquals(count, kept.size());
    for (int i = 0; i < count; i++) {
      EchoResponse r = EchoResponse.parseFrom(kept.get(i));
      assertEquals(i, r.getIndex());
      assertTrue(java.util.Arrays.equals(pattern, r.getPayload().toByteArray()), "message " + i + "'s payload changed after parse");
    }
    if (!scheme.equals("grpc")) {
      assertEquals(List.of("detached"), how.stream().distinct().toList(), "the bridge offers every message for detaching");
    }
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void largeMessagesRoundTrip(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    byte[] big = new byte[3 * 1024 * 1024];
    new java.util.Random(7).nextBytes(big);
    EchoResponse r = EchoGrpc.newBlockingStub(ch).say(EchoRequest.newBuilder().setPayload(ByteString.copyFrom(big)).build());
    assertTrue(java.util.Arrays.equals(big, r.getPayload().toByteArray()));
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void messageOverTheLimitIsResourceExhausted(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> EchoGrpc.newBlockingStub(ch).say(EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[5 * 1024 * 1024])).build()));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getStatus().toString());
    // The channel keeps working.
    EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void unknownMethodAndServiceAreUnimplemented(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    for (String name : List.of("bridge.demo.v1.Echo/NoSuchMethod", "no.such.Service/Say")) {
      MethodDescriptor<byte[], byte[]> m = rawMethod(name);
      StatusRuntimeException e =
          assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(ch, m, CallOptions.DEFAULT, new byte[0]));
      assertEquals(Status.Code.UNIMPLEMENTED, e.getStatus().getCode(), name);
    }
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void garbageProtobufIsInternalAndServerCarriesOn(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    MethodDescriptor<byte[], byte[]> m = rawMethod("bridge.demo.v1.Echo/Say");
    // Field 1, wire type 2, length 100, then 1 byte: truncated.
    byte[] garbage = {0x0a, 100, 1};
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> ClientCalls.blockingUnaryCall(ch, m, CallOptions.DEFAULT, garbage));
    // The bridge says INTERNAL with the parse error; stock grpc-java (the reference run) reports a
    // server-side parse failure as UNKNOWN "Application error processing RPC".
    Status.Code expected = scheme.equals("grpc") ? Status.Code.UNKNOWN : Status.Code.INTERNAL;
    assertEquals(expected, e.getStatus().getCode(), e.getStatus().toString());
    if (!scheme.equals("grpc")) {
      assertTrue(e.getStatus().getDescription().contains("failed to parse the request of bridge.demo.v1.Echo/Say"));
    }
    EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
  }

  static MethodDescriptor<byte[], byte[]> rawMethod(String fullName) {
    MethodDescriptor.Marshaller<byte[]> bytes =
        new MethodDescriptor.Marshaller<>() {
          @Override
          public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
          }

          @Override
          public byte[] parse(InputStream stream) {
            try {
              return stream.readAllBytes();
            } catch (java.io.IOException e) {
              throw new RuntimeException(e);
            }
          }
        };
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullName)
        .setRequestMarshaller(bytes)
        .setResponseMarshaller(bytes)
        .build();
  }
}
