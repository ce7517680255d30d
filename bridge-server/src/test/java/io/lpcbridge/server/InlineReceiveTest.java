package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import io.lpcbridge.transport.Capability;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * A blocking unary call waits for its answer by receiving it on its own thread where the transport
 * has {@link Capability#INLINE_RECEIVE} ({@code BridgeClientCall} and {@code
 * Connection.receiveInline}). Checked over every transport: where the answer is parsed, and that
 * deadlines, interrupts and other calls on the same channel still behave while a thread waits that
 * way.
 */
class InlineReceiveTest {
  static final List<String> SCHEMES = TestServers.SCHEMES;
  static TestServers servers;

  @BeforeAll
  static void start() throws Exception {
    servers = new TestServers();
  }

  @AfterAll
  static void stop() throws Exception {
    servers.close();
  }

  private static EchoRequest payload(String s) {
    return EchoRequest.newBuilder().setPayload(ByteString.copyFromUtf8(s)).build();
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void blockingUnaryAnswersAreParsedOnTheCallingThreadWhereTheTransportAllows(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    AtomicInteger onCaller = new AtomicInteger();
    Thread caller = Thread.currentThread();
    MethodDescriptor.Marshaller<EchoResponse> stock = EchoGrpc.getSayMethod().getResponseMarshaller();
    MethodDescriptor<EchoRequest, EchoResponse> say =
        EchoGrpc.getSayMethod().toBuilder()
            .setResponseMarshaller(new MethodDescriptor.Marshaller<>() {
              @Override
              public InputStream stream(EchoResponse value) {
                return stock.stream(value);
              }

              @Override
              public EchoResponse parse(InputStream stream) {
                if (Thread.currentThread() == caller) {
                  onCaller.incrementAndGet();
                }
                return stock.parse(stream);
              }
            })
            .build();
    int calls = 200;
    for (int i = 0; i < calls; i++) {
      EchoResponse r = ClientCalls.blockingUnaryCall(ch, say, CallOptions.DEFAULT, payload("call " + i));
      assertEquals("call " + i, r.getPayload().toStringUtf8());
    }
    if (servers.receivesInline(scheme)) {
      // Not all: the first call's connection is still being set up when it waits, and a caller
      // preempted between sending and waiting finds its answer already delivered by the reader.
      assertTrue(onCaller.get() >= calls / 2, onCaller.get() + " of " + calls + " answers parsed on the calling thread over " + scheme);
    } else if (!scheme.equals("grpc")) {
      // (A grpc:// channel is grpc-java's own, which parses answers on the call's executor.)
      assertEquals(0, onCaller.get(), "answers parsed on the calling thread over " + scheme + ", which has no INLINE_RECEIVE");
    }
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aDeadlineEndsTheWaitWithDeadlineExceeded(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    EchoGrpc.newBlockingStub(ch).say(payload("warm")); // connected, so the next call waits inline
    long t0 = System.nanoTime();
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> EchoGrpc.newBlockingStub(ch).withDeadlineAfter(200, TimeUnit.MILLISECONDS).say(payload("slow").toBuilder().setDelayMillis(30_000).build()));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());
    long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(tookMillis < 20_000, "a 200 ms deadline ended the wait only after " + tookMillis + " ms");
    assertEquals("after", EchoGrpc.newBlockingStub(ch).say(payload("after")).getPayload().toStringUtf8());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void anInterruptCancelsTheWaitingCall(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    EchoGrpc.newBlockingStub(ch).say(payload("warm"));
    CompletableFuture<Throwable> outcome = new CompletableFuture<>();
    CompletableFuture<Void> calling = new CompletableFuture<>();
    Thread t = Thread.ofPlatform().start(() -> {
      try {
        calling.complete(null);
        EchoGrpc.newBlockingStub(ch).say(payload("slow").toBuilder().setDelayMillis(30_000).build());
        outcome.complete(null);
      } catch (Throwable e) {
        outcome.complete(e);
      }
    });
    calling.get(10, TimeUnit.SECONDS);
    Thread.sleep(200);
    t.interrupt();
    Throwable e = outcome.get(20, TimeUnit.SECONDS);
    assertTrue(e instanceof StatusRuntimeException, "the interrupted call ended with " + e);
    assertEquals(Status.Code.CANCELLED, ((StatusRuntimeException) e).getStatus().getCode(), e.toString());
    assertEquals("after", EchoGrpc.newBlockingStub(ch).say(payload("after")).getPayload().toStringUtf8());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void asyncCallsOnTheSameChannelFinishBesideAndAfterBlockingOnes(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    EchoGrpc.EchoBlockingStub blocking = EchoGrpc.newBlockingStub(ch);
    for (int round = 0; round < 20; round++) {
      blocking.say(payload("before " + round));
      // Started right after a blocking call, while the reader thread may still stand aside.
      CompletableFuture<Integer> streamed = new CompletableFuture<>();
      EchoGrpc.newStub(ch).expand(EchoRequest.newBuilder().setResponseCount(50).setResponseSize(100).build(), new StreamObserver<>() {
        int n;

        @Override
        public void onNext(EchoResponse value) {
          n++;
        }

        @Override
        public void onError(Throwable t) {
          streamed.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
          streamed.complete(n);
        }
      });
      if (round % 2 == 0) {
        blocking.say(payload("beside " + round)); // reads the stream's messages too, for a while
      }
      assertEquals(50, streamed.get(20, TimeUnit.SECONDS), "server-stream messages over " + scheme + " in round " + round);
    }
  }
}
