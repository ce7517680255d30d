package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each kind of bad input ends only the offending call or connection, with a precise message, and
 * the server goes on serving everyone else. Unknown methods and garbage protobuf are covered per
 * transport in {@link GrpcSemanticsTest}.
 */
class BadInputTest {
  static BridgeServer server;
  static int port;
  static ManagedChannel healthy;
  static final BlockingQueue<String> cancelled = new LinkedBlockingQueue<>();

  @BeforeAll
  static void start() throws Exception {
    ServerInterceptor watchCancel =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
              @Override
              public void onCancel() {
                cancelled.add(call.getMethodDescriptor().getFullMethodName());
                super.onCancel();
              }
            };
          }
        };
    server =
        BridgeServerBuilder.forTargets("tcp://127.0.0.1:0")
            .addService(new EchoService())
            .intercept(watchCancel)
            .handshakeTimeout(300, TimeUnit.MILLISECONDS)
            .transportOption("maxMessageSize", 1 << 20)
            .build()
            .start();
    port = server.getPort();
    healthy = BridgeChannelBuilder.forTarget("tcp://127.0.0.1:" + port).build();
  }

  @AfterAll
  static void stop() throws Exception {
    healthy.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void serverStillServesOthers() {
    EchoGrpc.newBlockingStub(healthy).withDeadlineAfter(10, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance());
  }

  @Test
  void lengthPrefixOverTheLimitClosesOnlyThatConnection() throws Exception {
    try (RawWire raw = new RawWire("127.0.0.1", port)) {
      raw.sendRaw(ByteBuffer.allocate(4).putInt(Integer.MAX_VALUE).array());
      assertTrue(raw.closedByPeer());
    }
  }

  @Test
  void truncatedFrameGetsAGoAwayNamingIt() throws Exception {
    try (RawWire raw = new RawWire("127.0.0.1", port)) {
      byte[] frame = RawWire.frame(RawWire.MESSAGE, (byte) 0, 1, new byte[40]);
      byte[] cut = java.util.Arrays.copyOf(frame, 20);
      raw.sendMessage(RawWire.concat(RawWire.hello(), cut));
      String reason = raw.awaitGoAway();
      assertNotNull(reason);
      assertTrue(reason.contains("truncated MESSAGE frame: payload length 40 but only 8 bytes follow"), reason);
      assertTrue(raw.closedByPeer());
    }
  }

  @Test
  void unknownFrameTypeGetsAGoAwayNamingIt() throws Exception {
    try (RawWire raw = new RawWire("127.0.0.1", port)) {
      raw.sendMessage(RawWire.concat(RawWire.hello(), RawWire.frame((byte) 0x5a, (byte) 0, 3, new byte[0])));
      String reason = raw.awaitGoAway();
      assertEquals("unknown frame type 0x5a on stream 3", reason);
    }
  }

  @Test
  void wrongMagicGetsAGoAway() throws Exception {
    try (RawWire raw = new RawWire("127.0.0.1", port)) {
      byte[] hello = RawWire.hello();
      hello[12] = 'X';
      raw.sendMessage(hello);
      String reason = raw.awaitGoAway();
      assertNotNull(reason);
      assertTrue(reason.contains("does not speak the bridge protocol"), reason);
    }
  }

  @Test
  void clientThatSendsNothingIsDroppedAfterTheHandshakeTimeout() throws Exception {
    try (RawWire raw = new RawWire("127.0.0.1", port)) {
      String reason = raw.awaitGoAway();
      assertNotNull(reason);
      assertTrue(reason.contains("no HELLO from"), reason);
      assertTrue(raw.closedByPeer());
    }
  }

  @Test
  void clientKilledMidStreamCancelsItsCallOnly(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
    cancelled.clear();
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child =
        new ProcessBuilder(
                java,
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                StreamingClientMain.class.getName(),
                "tcp://127.0.0.1:" + port)
            .redirectErrorStream(true)
            .start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
      String line;
      do {
        line = out.readLine();
      } while (line != null && !line.equals("STREAMING"));
      assertEquals("STREAMING", line, "child never started streaming");
      child.destroyForcibly(); // SIGKILL
      assertTrue(child.waitFor(10, TimeUnit.SECONDS));
      assertEquals(List.of("bridge.demo.v1.Echo/Chat"), List.of(cancelled.poll(10, TimeUnit.SECONDS)));
    } finally {
      child.destroyForcibly();
    }
  }
}
