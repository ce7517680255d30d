package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code idleTimeout}, as gRPC's: a channel with no call for that long closes its connection and
 * goes IDLE, the next call connects again, and a call that lasts longer than the timeout keeps the
 * connection. The server names each call's peer address; a new connection comes from a new port.
 */
class IdleTimeoutTest {
  /** Every call's peer, as the server saw it. */
  private final List<String> peers = new CopyOnWriteArrayList<>();

  private static EchoGrpc.EchoBlockingStub stub(ManagedChannel ch) {
    return EchoGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private String lastPeer() {
    return peers.getLast();
  }

  @ParameterizedTest
  @ValueSource(strings = {"tcp", "tcp[io=jdk]", "udp[io=jdk]"})
  void anIdleChannelClosesItsConnectionAndTheNextCallConnectsAgain(String name) throws Exception {
    String scheme = TestServers.schemeOf(name);
    java.util.Map<String, String> options = TestServers.optionsOf(name);
    Server server =
        BridgeServerBuilder.create()
            .addService(new EchoService())
            .intercept(recordingInterceptor())
            .listen(io.lpcbridge.transport.Target.parse(scheme + "://127.0.0.1:0"), options)
            .build()
            .start();
    String target = ((BridgeServer) server).targets().get(0).toString();
    ManagedChannel ch = BridgeChannelBuilder.forTarget(target).transportOptions(options).idleTimeout(1, TimeUnit.SECONDS).build();
    try {
      stub(ch).say(EchoRequest.getDefaultInstance());
      String first = lastPeer();
      assertEquals(ConnectivityState.READY, ch.getState(false));

      // A call longer than the idle timeout keeps the connection: it is not idle while a call is open.
      stub(ch).say(EchoRequest.newBuilder().setDelayMillis(1_600).build());
      stub(ch).say(EchoRequest.getDefaultInstance());
      assertEquals(first, lastPeer(), "the same connection right after a call longer than the idle timeout");

      long quietSince = System.nanoTime();
      long deadline = quietSince + TimeUnit.SECONDS.toNanos(10);
      while (ch.getState(false) != ConnectivityState.IDLE && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      long idleAfterMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - quietSince);
      assertEquals(ConnectivityState.IDLE, ch.getState(false), "IDLE after a quiet idle timeout");
      assertTrue(idleAfterMillis >= 900, "went IDLE after only " + idleAfterMillis + " ms of a 1 s idle timeout");

      stub(ch).say(EchoRequest.getDefaultInstance());
      assertEquals(ConnectivityState.READY, ch.getState(false));
      assertNotEquals(first, lastPeer(), "a new connection (a new port) after idle mode");
    } finally {
      ch.shutdownNow();
      server.shutdownNow();
    }
  }

  /** Records every call's peer in {@link #peers}. */
  private ServerInterceptor recordingInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
          ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
        peers.add(String.valueOf(call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)));
        return next.startCall(call, headers);
      }
    };
  }

  @org.junit.jupiter.api.Test
  void theIdleTimeoutMustBePositive() {
    BridgeChannelBuilder b = BridgeChannelBuilder.forTarget("tcp://127.0.0.1:1");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.idleTimeout(0, TimeUnit.SECONDS));
    assertTrue(e.getMessage().contains("must be positive"), e.getMessage());
  }
}
