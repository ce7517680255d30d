package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Stock generated Echo stubs over {@code shm://}: a {@code bridge serve} in a child JVM, a
 * BridgeChannel here. Unary, server streaming, a message larger than a ring (fragmented), and the
 * server killed with SIGKILL under a pending call, which must fail UNAVAILABLE within a second.
 *
 * <p>It lives here rather than in transports/shm because bridge-client depends on transport-shm:
 * a test dependency the other way would be a reactor cycle.
 */
class ShmRpcEndToEndTest {
  private Process server;
  private ManagedChannel channel;
  private final String name = "e2e-" + ProcessHandle.current().pid();

  @BeforeEach
  void startServer() throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        "io.lpcbridge.cli.BridgeCli", "serve", "--target", "shm://" + name));
    server = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    CompletableFuture<String> ready = new CompletableFuture<>();
    Thread.ofPlatform().daemon().start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (line.equals("ready")) {
            ready.complete(line);
          }
        }
      } catch (Exception e) {
        ready.completeExceptionally(e);
      }
      ready.completeExceptionally(new IllegalStateException("bridge serve exited before it was ready"));
    });
    ready.get(60, TimeUnit.SECONDS);
    channel = BridgeChannelBuilder.forTarget("shm://" + name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.destroyForcibly();
    server.waitFor(10, TimeUnit.SECONDS);
  }

  @Test
  void unaryStreamingAndLargeCallsOverShm() {
    EchoGrpc.EchoBlockingStub echo = EchoGrpc.newBlockingStub(channel);
    ByteString payload = ByteString.copyFrom(new byte[64]);
    for (int i = 0; i < 1000; i++) {
      assertEquals(payload, echo.say(EchoRequest.newBuilder().setPayload(payload).build()).getPayload());
    }

    Iterator<EchoResponse> stream =
        echo.expand(EchoRequest.newBuilder().setResponseCount(1000).setResponseSize(1024).build());
    int n = 0;
    while (stream.hasNext()) {
      EchoResponse r = stream.next();
      assertEquals(n++, r.getIndex());
      assertEquals(1024, r.getPayload().size());
    }
    assertEquals(1000, n);

    // Larger than a record of the default 1 MiB ring: fragmented and reassembled both ways.
    byte[] big = new byte[3 * 1024 * 1024];
    new java.util.SplittableRandom(1).nextBytes(big);
    EchoResponse r = echo.say(EchoRequest.newBuilder().setPayload(ByteString.copyFrom(big)).build());
    assertArrayEquals(big, r.getPayload().toByteArray());
  }

  @Test
  void killedServerFailsThePendingCallUnavailableWithinASecond() throws Exception {
    EchoGrpc.EchoBlockingStub echo = EchoGrpc.newBlockingStub(channel);
    echo.say(EchoRequest.getDefaultInstance()); // connected
    CompletableFuture<Long> failedAt = new CompletableFuture<>();
    Thread caller = Thread.ofPlatform().start(() -> {
      try {
        echo.say(EchoRequest.newBuilder().setDelayMillis(30_000).build());
        failedAt.completeExceptionally(new AssertionError("the call succeeded"));
      } catch (StatusRuntimeException e) {
        assertEquals(Status.Code.UNAVAILABLE, e.getStatus().getCode(), e.toString());
        failedAt.complete(System.nanoTime());
      }
    });
    Thread.sleep(300); // the call is in flight
    server.destroyForcibly(); // SIGKILL
    assertTrue(server.waitFor(10, TimeUnit.SECONDS));
    long killed = System.nanoTime();
    long failed = failedAt.get(5, TimeUnit.SECONDS);
    System.err.printf("ShmRpcEndToEndTest: pending call failed UNAVAILABLE %.1f ms after the server was reaped%n",
        (failed - killed) / 1e6);
    assertTrue(failed - killed < TimeUnit.SECONDS.toNanos(1), "within a second");
    caller.join();
    assertThrows(StatusRuntimeException.class, () -> echo.withDeadlineAfter(2, TimeUnit.SECONDS).say(EchoRequest.getDefaultInstance()));
  }
}
