package io.lpcbridge.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Native gRPC servers and channels built from targets, as the bridge will build them. */
@Timeout(30)
class GrpcTargetsTest {
  private static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  private static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("test.Echo/Say")
          .setRequestMarshaller(BYTES)
          .setResponseMarshaller(BYTES)
          .build();

  private static final ServerServiceDefinition ECHO_SERVICE =
      ServerServiceDefinition.builder("test.Echo")
          .addMethod(ECHO, ServerCalls.asyncUnaryCall((req, out) -> {
            out.onNext(req);
            out.onCompleted();
          }))
          .build();

  @TempDir Path dir;
  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void shutdown() throws InterruptedException {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
    for (Server s : servers) {
      s.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void tcpServerOnPortZeroReportsItsPortAndServesAChannel() throws Exception {
    Target requested = Target.parse("grpc://127.0.0.1:0");
    Server server = start(requested, TransportOptions.defaults());
    Target bound = GrpcTargets.boundTarget(requested, server);
    assertEquals("grpc", bound.scheme());
    assertEquals("127.0.0.1", bound.hostPort(-1).host());
    assertNotEquals(0, bound.hostPort(-1).port());
    assertEquals(server.getPort(), bound.hostPort(-1).port());
    assertEcho(bound, TransportOptions.defaults());
  }

  @Test
  void unixServerServesAChannelAtItsPath() throws Exception {
    Assumptions.assumeTrue(GrpcTargets.isUnixAvailable(), "grpc+unix needs epoll");
    Path socket = dir.resolve("echo.sock");
    Target target = Target.parse("grpc+unix://" + socket);
    Server server = start(target, TransportOptions.defaults());
    assertEquals(target, GrpcTargets.boundTarget(target, server));
    assertTrue(Files.exists(socket), "socket file at " + socket);
    assertEcho(target, TransportOptions.defaults());
  }

  @Test
  void maxMessageSizeBoundsWhatEachEndAccepts() throws Exception {
    TransportOptions small = TransportOptions.defaults().with(TransportOptions.MAX_MESSAGE_SIZE, "4k");
    Target requested = Target.parse("grpc://127.0.0.1:0");
    Server server = start(requested, small);
    ManagedChannel channel = channel(GrpcTargets.boundTarget(requested, server), TransportOptions.defaults());

    byte[] atLimit = new byte[4096];
    assertArrayEquals(atLimit, ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, atLimit));
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () -> ClientCalls.blockingUnaryCall(channel, ECHO, CallOptions.DEFAULT, new byte[4097]));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.getMessage());
  }

  @Test
  void rejectsWhatItCannotServe() throws Exception {
    TransportOptions d = TransportOptions.defaults();
    assertThrows(IllegalArgumentException.class, () -> GrpcTargets.serverBuilder(Target.parse("tcp://127.0.0.1:0"), d));
    assertThrows(IllegalArgumentException.class, () -> GrpcTargets.channelBuilder(Target.parse("grpc://127.0.0.1:0"), d));
    assertThrows(IllegalArgumentException.class, () -> GrpcTargets.channelBuilder(Target.parse("grpc://127.0.0.1"), d));
    assertThrows(IllegalArgumentException.class, () -> GrpcTargets.channelBuilder(Target.parse("grpc+unix:@abstract"), d));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> GrpcTargets.serverBuilder(Target.parse("grpc://127.0.0.1:0"), d.with("keepAliveTme", "1s")));
    assertTrue(e.getMessage().contains("keepAliveTme"), e.getMessage());

    Target requested = Target.parse("grpc://127.0.0.1:0");
    Server notStarted = GrpcTargets.serverBuilder(requested, d).addService(ECHO_SERVICE).build();
    assertThrows(IllegalStateException.class, () -> GrpcTargets.boundTarget(requested, notStarted));
  }

  private Server start(Target target, TransportOptions options) throws IOException {
    Server s = GrpcTargets.serverBuilder(target, options).addService(ECHO_SERVICE).build().start();
    servers.add(s);
    return s;
  }

  private ManagedChannel channel(Target target, TransportOptions options) throws IOException {
    ManagedChannel c = GrpcTargets.channelBuilder(target, options).build();
    channels.add(c);
    return c;
  }

  private void assertEcho(Target target, TransportOptions options) throws IOException {
    byte[] hello = "hello".getBytes(StandardCharsets.UTF_8);
    assertArrayEquals(hello, ClientCalls.blockingUnaryCall(channel(target, options), ECHO, CallOptions.DEFAULT, hello));
  }
}
