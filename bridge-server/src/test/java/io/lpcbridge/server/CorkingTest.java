package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Responses a handler sends from inside its callback are corked and leave together when it returns
 * ({@code Cork}). Checked over every transport: a long stream sent in one
 * callback arrives whole and in order, and a handler that sends and then blocks does not hold its
 * messages back until it returns.
 */
class CorkingTest {
  static final List<String> SCHEMES = TestServers.SCHEMES;

  /** Echo/Expand's shape under another name: sends two messages, blocks until the client has both. */
  static final MethodDescriptor<EchoRequest, EchoResponse> PROGRESS =
      EchoGrpc.getExpandMethod().toBuilder().setFullMethodName("test.Corking/Progress").build();

  static TestServers servers;
  static volatile CountDownLatch clientSawBoth;

  @BeforeAll
  static void start() throws Exception {
    ServerServiceDefinition progress =
        ServerServiceDefinition.builder("test.Corking")
            .addMethod(
                PROGRESS,
                ServerCalls.asyncServerStreamingCall(
                    (request, out) -> {
                      // The first message of a callback leaves at once; the second is corked.
                      out.onNext(EchoResponse.newBuilder().setIndex(0).setPayload(ByteString.copyFromUtf8("started")).build());
                      out.onNext(EchoResponse.newBuilder().setIndex(1).setPayload(ByteString.copyFromUtf8("waiting")).build());
                      boolean seen = TestServers.await(clientSawBoth, 20);
                      out.onNext(EchoResponse.newBuilder().setIndex(2).setPayload(ByteString.copyFromUtf8(seen ? "seen" : "not seen")).build());
                      out.onCompleted();
                    }))
            .build();
    servers = new TestServers(List.of(progress));
  }

  @AfterAll
  static void stop() throws Exception {
    servers.close();
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void messagesSentBeforeTheHandlerBlocksReachTheClientMeanwhile(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    clientSawBoth = new CountDownLatch(1);
    Iterator<EchoResponse> it =
        ClientCalls.blockingServerStreamingCall(
            ch, PROGRESS, CallOptions.DEFAULT.withDeadlineAfter(60, TimeUnit.SECONDS), EchoRequest.getDefaultInstance());
    assertEquals("started", it.next().getPayload().toStringUtf8());
    assertEquals("waiting", it.next().getPayload().toStringUtf8());
    clientSawBoth.countDown();
    assertEquals("seen", it.next().getPayload().toStringUtf8(), "the corked message waited for the handler to return");
    assertFalse(it.hasNext());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void aLongStreamFromOneCallbackArrivesWholeAndInOrder(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    int count = 20_000;
    // 20,000 messages of 100 bytes: batches of many messages, several windows' worth.
    Iterator<EchoResponse> it =
        EchoGrpc.newBlockingStub(ch)
            .withDeadlineAfter(60, TimeUnit.SECONDS)
            .expand(EchoRequest.newBuilder().setResponseCount(count).setResponseSize(100).build());
    int n = 0;
    while (it.hasNext()) {
      EchoResponse r = it.next();
      assertEquals(n, r.getIndex());
      assertEquals(100, r.getPayload().size());
      n++;
    }
    assertEquals(count, n);
  }
}
