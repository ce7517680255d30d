package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Shutdown, drain, reconnection and failure of calls in flight, over real transports. */
class LifecycleTest {
  @TempDir Path dir;

  private String targetFor(String scheme) {
    return switch (scheme) {
      case "unix" -> "unix://" + dir.resolve("life.sock");
      default -> scheme + "://127.0.0.1:0";
    };
  }

  private static Server start(String target) throws Exception {
    return BridgeServerBuilder.forTargets(target).addService(new EchoService()).build().start();
  }

  private static String bound(Server s) {
    return ((BridgeServer) s).targets().get(0).toString();
  }

  private static ManagedChannel channel(String target) {
    return BridgeChannelBuilder.forTarget(target).reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(200)).build();
  }

  /** A bidi call the test can hold open. */
  private static final class OpenCall {
    final CompletableFuture<Status> closed = new CompletableFuture<>();
    final CountDownLatch firstReply = new CountDownLatch(1);
    final StreamObserver<EchoRequest> requests;

    OpenCall(ManagedChannel ch) {
      requests =
          EchoGrpc.newStub(ch)
              .chat(
                  new StreamObserver<>() {
                    @Override
                    public void onNext(EchoResponse v) {
                      firstReply.countDown();
                    }

                    @Override
                    public void onError(Throwable t) {
                      closed.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                      closed.complete(Status.OK);
                    }
                  });
      requests.onNext(EchoRequest.getDefaultInstance());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix", "grpc"})
  void gracefulShutdownLetsOpenCallsFinishAndRefusesNewOnes(String scheme) throws Exception {
    Server server = start(targetFor(scheme));
    ManagedChannel ch = channel(bound(server));
    try {
      OpenCall call = new OpenCall(ch);
      assertTrue(call.firstReply.await(10, TimeUnit.SECONDS));
      server.shutdown();
      assertTrue(server.isShutdown());
      assertFalse(server.awaitTermination(200, TimeUnit.MILLISECONDS), "terminated with a call still open");
      // The open call still works and completes normally.
      call.requests.onNext(EchoRequest.getDefaultInstance());
      call.requests.onCompleted();
      assertEquals(Status.Code.OK, call.closed.get(10, TimeUnit.SECONDS).getCode());
      assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
      // New calls are refused.
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> EchoGrpc.newBlockingStub(ch).withDeadlineAfter(5, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.getStatus().toString());
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix", "grpc"})
  void shutdownNowFailsOpenCallsWithUnavailable(String scheme) throws Exception {
    Server server = start(targetFor(scheme));
    ManagedChannel ch = channel(bound(server));
    try {
      OpenCall call = new OpenCall(ch);
      assertTrue(call.firstReply.await(10, TimeUnit.SECONDS));
      server.shutdownNow();
      Status s = call.closed.get(10, TimeUnit.SECONDS);
      // The bridge fails the call with UNAVAILABLE (safe to retry elsewhere); stock grpc-java, the
      // reference run, resets the stream and the client sees CANCELLED.
      Status.Code expected = scheme.equals("grpc") ? Status.Code.CANCELLED : Status.Code.UNAVAILABLE;
      assertEquals(expected, s.getCode(), s.toString());
      assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
    } finally {
      ch.shutdownNow();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "unix"})
  void clientReconnectsWhenTheServerComesBack(String scheme) throws Exception {
    Server server = start(targetFor(scheme));
    String target = bound(server);
    ManagedChannel ch = channel(target);
    try {
      EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
      OpenCall inFlight = new OpenCall(ch);
      assertTrue(inFlight.firstReply.await(10, TimeUnit.SECONDS));
      server.shutdownNow();
      assertTrue(server.awaitTermination(10, TimeUnit.SECONDS));
      assertEquals(Status.Code.UNAVAILABLE, inFlight.closed.get(10, TimeUnit.SECONDS).getCode());
      // With nothing listening, fail-fast calls fail promptly with UNAVAILABLE.
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> EchoGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      // A wait-for-ready call waits for the server to come back, on the same address.
      CompletableFuture<EchoResponse> waiting =
          CompletableFuture.supplyAsync(
              () ->
                  EchoGrpc.newBlockingStub(ch)
                      .withWaitForReady()
                      .withDeadlineAfter(20, TimeUnit.SECONDS)
                      .say(EchoRequest.getDefaultInstance()));
      server = start(target);
      waiting.get(20, TimeUnit.SECONDS);
      EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
      assertEquals(ConnectivityState.READY, ch.getState(false));
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void connectingToNothingFailsFastNotHangs() throws Exception {
    ManagedChannel ch = channel("unix://" + dir.resolve("nobody.sock"));
    try {
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> EchoGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      assertTrue(e.getStatus().getDescription().contains("nobody.sock"), e.getStatus().getDescription());
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void channelShutdownDrainsAndTerminates() throws Exception {
    Server server = start(targetFor("tcp"));
    ManagedChannel ch = channel(bound(server));
    try {
      OpenCall call = new OpenCall(ch);
      assertTrue(call.firstReply.await(10, TimeUnit.SECONDS));
      ch.shutdown();
      assertTrue(ch.isShutdown());
      StatusRuntimeException e =
          assertThrows(StatusRuntimeException.class, () -> EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance()));
      assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode());
      assertFalse(ch.awaitTermination(100, TimeUnit.MILLISECONDS));
      call.requests.onCompleted();
      assertEquals(Status.Code.OK, call.closed.get(10, TimeUnit.SECONDS).getCode());
      assertTrue(ch.awaitTermination(10, TimeUnit.SECONDS));
      assertTrue(ch.isTerminated());
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }

  @Test
  void oneServerServesAllItsTargetsAtOnce() throws Exception {
    Path sock = Files.createTempDirectory(dir, "m").resolve("multi.sock");
    BridgeServer server =
        BridgeServerBuilder.forTargets("tcp://127.0.0.1:0", "unix://" + sock, "grpc://127.0.0.1:0")
            .addService(new EchoService())
            .build()
            .start();
    try {
      assertEquals(List.of("tcp", "unix", "grpc"), server.targets().stream().map(t -> t.scheme()).toList());
      for (var t : server.targets()) {
        ManagedChannel ch = channel(t.toString());
        try {
          EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance());
        } finally {
          ch.shutdownNow();
        }
      }
    } finally {
      server.shutdownNow();
    }
  }
}
