package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import io.lpcbridge.transport.Capability;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Where handlers, and a client's callbacks, run with the default executors ({@code
 * ReaderExecutor}): on the transport's reader thread where the transport has {@link
 * Capability#INLINE_RECEIVE}, on the pool elsewhere. Checked over every transport, together with
 * what that must not cost: a handler or a client callback that blocks does not hold up other calls
 * on its connection, a client callback may make a blocking call on the same channel, and a handler
 * that waits for its cancellation sees it.
 */
class HandlerThreadsTest {
  static final List<String> SCHEMES = TestServers.SCHEMES;

  static final MethodDescriptor<EchoRequest, EchoResponse> WHERE = unary("Where");
  static final MethodDescriptor<EchoRequest, EchoResponse> BLOCK = unary("Block");
  static final MethodDescriptor<EchoRequest, EchoResponse> UNTIL_CANCELLED = unary("UntilCancelled");

  static TestServers servers;
  static volatile CountDownLatch release;
  static volatile CountDownLatch blocking;
  static volatile CountDownLatch sawCancel;
  static volatile CountDownLatch waiting;

  private static MethodDescriptor<EchoRequest, EchoResponse> unary(String name) {
    return EchoGrpc.getSayMethod().toBuilder().setFullMethodName("test.Threads/" + name).build();
  }

  private static EchoResponse answer(String text) {
    return EchoResponse.newBuilder().setPayload(ByteString.copyFromUtf8(text)).build();
  }

  @BeforeAll
  static void start() throws Exception {
    ServerServiceDefinition threads =
        ServerServiceDefinition.builder("test.Threads")
            .addMethod(WHERE, ServerCalls.asyncUnaryCall((req, out) -> {
              out.onNext(answer(Thread.currentThread().getName()));
              out.onCompleted();
            }))
            .addMethod(BLOCK, ServerCalls.asyncUnaryCall((req, out) -> {
              blocking.countDown();
              out.onNext(answer(TestServers.await(release, 30) ? "released" : "not released"));
              out.onCompleted();
            }))
            .addMethod(UNTIL_CANCELLED, ServerCalls.asyncUnaryCall((req, out) -> {
              // A handler that polls its context, as server-streaming loops do.
              Context ctx = Context.current();
              waiting.countDown();
              long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
              while (!ctx.isCancelled() && System.nanoTime() < end) {
                try {
                  Thread.sleep(2);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                  return;
                }
              }
              if (ctx.isCancelled()) {
                sawCancel.countDown();
              }
            }))
            .build();
    servers = new TestServers(List.of(threads));
  }

  @AfterAll
  static void stop() throws Exception {
    servers.close();
  }

  private static String where(ManagedChannel ch) {
    return ClientCalls.blockingUnaryCall(ch, WHERE, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), EchoRequest.getDefaultInstance())
        .getPayload()
        .toStringUtf8();
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void handlersRunOnTheReaderThreadWhereTheTransportHasOne(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    assertRanWhereExpected(scheme, "handler", afterAnyCoolDown(scheme, () -> where(ch)));
  }

  /**
   * Where {@code run} ran. Where the transport has a reader thread, asked again until it runs
   * there, for up to 15 s: an earlier test's blocking callback had that reader thread replaced, and
   * the connection then hands callbacks to the pool for a cool-down (ReadRole.COOL_DOWN_NANOS,
   * doubling while replacements recur, at most 10 s). Every connection of a udp listener shares its
   * reader thread, so its cool-downs outlast one connection's.
   */
  private static String afterAnyCoolDown(String scheme, java.util.concurrent.Callable<String> run) throws Exception {
    String thread = run.call();
    if (servers.receivesInline(scheme)) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (!thread.contains(" reader ") && System.nanoTime() < end) {
        Thread.sleep(50);
        thread = run.call();
      }
    }
    return thread;
  }

  /** On the reader thread where the transport has one, else on the default pool. */
  private static void assertRanWhereExpected(String scheme, String what, String thread) throws IOException {
    if (servers.receivesInline(scheme)) {
      assertTrue(thread.contains(" reader "), what + " ran on " + thread + ", not the transport's reader thread");
    } else {
      assertTrue(thread.startsWith("bridge-default-executor"), what + " ran on " + thread + ", not the default pool");
    }
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aBlockedHandlerDoesNotHoldUpOtherCallsOnItsConnection(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    where(ch); // connected
    release = new CountDownLatch(1);
    blocking = new CountDownLatch(1);
    ListenableFuture<EchoResponse> blocked =
        ClientCalls.futureUnaryCall(ch.newCall(BLOCK, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS)), EchoRequest.getDefaultInstance());
    assertTrue(blocking.await(20, TimeUnit.SECONDS), "the blocking handler started");
    for (int i = 0; i < 20; i++) {
      where(ch);
    }
    assertFalse(blocked.isDone(), "the blocked call is still blocked");
    release.countDown();
    assertEquals("released", blocked.get(20, TimeUnit.SECONDS).getPayload().toStringUtf8());
    where(ch);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aHandlerWaitingForItsCancellationSeesIt(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    where(ch);
    waiting = new CountDownLatch(1);
    sawCancel = new CountDownLatch(1);
    ListenableFuture<EchoResponse> call =
        ClientCalls.futureUnaryCall(ch.newCall(UNTIL_CANCELLED, CallOptions.DEFAULT), EchoRequest.getDefaultInstance());
    assertTrue(waiting.await(20, TimeUnit.SECONDS), "the handler started");
    call.cancel(true);
    assertThrows(CancellationException.class, call::get);
    assertTrue(sawCancel.await(20, TimeUnit.SECONDS), "the handler saw its context cancelled");
    where(ch);
  }

  /** An async Where call whose onNext runs {@code onAnswer} on whatever thread delivers it. */
  private static void whereAsync(ManagedChannel ch, Consumer<String> onAnswer, CompletableFuture<?> failure) {
    ClientCalls.asyncUnaryCall(
        ch.newCall(WHERE, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS)),
        EchoRequest.getDefaultInstance(),
        new StreamObserver<EchoResponse>() {
          @Override
          public void onNext(EchoResponse r) {
            onAnswer.accept(Thread.currentThread().getName());
          }

          @Override
          public void onError(Throwable t) {
            failure.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void clientCallbacksRunOnTheReaderThreadWhereTheTransportHasOne(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    String ran = afterAnyCoolDown(scheme, () -> {
      CompletableFuture<String> thread = new CompletableFuture<>();
      whereAsync(ch, thread::complete, thread);
      return thread.get(20, TimeUnit.SECONDS);
    });
    assertRanWhereExpected(scheme, "client callback", ran);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aBlockedClientCallbackDoesNotHoldUpOtherCallsOnItsConnection(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    where(ch); // connected
    CountDownLatch inCallback = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    CompletableFuture<String> blocked = new CompletableFuture<>();
    whereAsync(ch, name -> {
      inCallback.countDown();
      blocked.complete(TestServers.await(letGo, 30) ? "released" : "not released");
    }, blocked);
    assertTrue(inCallback.await(20, TimeUnit.SECONDS), "the blocking callback started");
    // Answers to these are read, and their futures completed, while that callback blocks.
    for (int i = 0; i < 20; i++) {
      ClientCalls.futureUnaryCall(ch.newCall(WHERE, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS)), EchoRequest.getDefaultInstance())
          .get(20, TimeUnit.SECONDS);
    }
    assertFalse(blocked.isDone(), "the blocked callback is still blocked");
    letGo.countDown();
    assertEquals("released", blocked.get(20, TimeUnit.SECONDS));
    where(ch);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aClientCallbackMayMakeABlockingCallOnTheSameChannel(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    CompletableFuture<String> nested = new CompletableFuture<>();
    whereAsync(ch, name -> nested.complete(where(ch)), nested);
    assertFalse(nested.get(20, TimeUnit.SECONDS).isEmpty());
  }
}
