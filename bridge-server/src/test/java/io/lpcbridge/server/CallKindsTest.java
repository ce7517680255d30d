package io.lpcbridge.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import io.lpcbridge.kv.v1.Entry;
import io.lpcbridge.kv.v1.GetRequest;
import io.lpcbridge.kv.v1.KeyValueGrpc;
import io.lpcbridge.kv.v1.PutRequest;
import io.lpcbridge.kv.v1.ScanRequest;
import io.lpcbridge.kv.v1.WatchEvent;
import io.lpcbridge.kv.v1.WatchRequest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** The four call kinds through stock generated stubs (blocking, async, future) over each transport. */
class CallKindsTest {
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
  void unaryBlocking(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    EchoResponse r = EchoGrpc.newBlockingStub(ch).say(payload("hello " + scheme));
    assertEquals("hello " + scheme, r.getPayload().toStringUtf8());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void unaryFutureAndEmptyMessage(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    EchoResponse r = EchoGrpc.newFutureStub(ch).say(EchoRequest.getDefaultInstance()).get(10, TimeUnit.SECONDS);
    assertEquals(0, r.getPayload().size());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void manyConcurrentUnaryCallsShareOneConnection(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    EchoGrpc.EchoFutureStub stub = EchoGrpc.newFutureStub(ch);
    List<com.google.common.util.concurrent.ListenableFuture<EchoResponse>> futures = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      futures.add(stub.say(payload("m" + i)));
    }
    for (int i = 0; i < 200; i++) {
      assertEquals("m" + i, futures.get(i).get(10, TimeUnit.SECONDS).getPayload().toStringUtf8());
    }
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void serverStreamingBlockingIterator(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    Iterator<EchoResponse> it =
        EchoGrpc.newBlockingStub(ch).expand(payload("x").toBuilder().setResponseCount(500).build());
    int n = 0;
    while (it.hasNext()) {
      EchoResponse r = it.next();
      assertEquals(n++, r.getIndex());
      assertEquals("x", r.getPayload().toStringUtf8());
    }
    assertEquals(500, n);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void clientStreamingAsync(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    CompletableFuture<EchoResponse> result = new CompletableFuture<>();
    StreamObserver<EchoRequest> req =
        EchoGrpc.newStub(ch)
            .collect(
                new StreamObserver<>() {
                  @Override
                  public void onNext(EchoResponse v) {
                    result.complete(v);
                  }

                  @Override
                  public void onError(Throwable t) {
                    result.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {}
                });
    for (int i = 0; i < 300; i++) {
      req.onNext(payload("abc"));
    }
    req.onCompleted();
    EchoResponse r = result.get(10, TimeUnit.SECONDS);
    assertEquals(300, r.getReceivedCount());
    assertEquals(900, r.getReceivedBytes());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void clientStreamingSenderDrivenByOnReady(String scheme) throws Exception {
    // grpc-java's manual flow control pattern: send only from the onReady handler. A channel that
    // never says onReady for a fresh call leaves this sender waiting forever.
    for (int round = 0; round < 5; round++) {
      ManagedChannel ch = servers.channel(scheme);
      EchoGrpc.newBlockingStub(ch).say(EchoRequest.getDefaultInstance()); // an established connection
      CompletableFuture<EchoResponse> result = new CompletableFuture<>();
      int total = 100;
      EchoGrpc.newStub(ch)
          .collect(
              new io.grpc.stub.ClientResponseObserver<EchoRequest, EchoResponse>() {
                int sent;

                @Override
                public void beforeStart(io.grpc.stub.ClientCallStreamObserver<EchoRequest> requests) {
                  requests.setOnReadyHandler(
                      () -> {
                        while (requests.isReady() && sent < total) {
                          requests.onNext(payload("r"));
                          if (++sent == total) {
                            requests.onCompleted();
                          }
                        }
                      });
                }

                @Override
                public void onNext(EchoResponse v) {
                  result.complete(v);
                }

                @Override
                public void onError(Throwable t) {
                  result.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {}
              });
      assertEquals(total, result.get(10, TimeUnit.SECONDS).getReceivedCount());
    }
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void bidiPingPongInOrder(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    List<String> got = new CopyOnWriteArrayList<>();
    CountDownLatch done = new CountDownLatch(1);
    StreamObserver<EchoRequest> req =
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
    for (int i = 0; i < 1000; i++) {
      sent.add("b" + i);
      req.onNext(payload("b" + i));
    }
    req.onCompleted();
    assertTrue(done.await(20, TimeUnit.SECONDS));
    assertEquals(sent, got);
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void statusCodeAndUnicodeMessageArrive(String scheme) {
    ManagedChannel ch = servers.channel(scheme);
    String message = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                EchoGrpc.newBlockingStub(ch)
                    .say(EchoRequest.newBuilder().setFailWithCode(Status.Code.NOT_FOUND.value()).setFailWithMessage(message).build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    assertEquals(message, e.getStatus().getDescription());
  }

  @ParameterizedTest
  @FieldSource("SCHEMES")
  void keyValueServiceWorksEndToEnd(String scheme) throws Exception {
    ManagedChannel ch = servers.channel(scheme);
    KeyValueGrpc.KeyValueBlockingStub kv = KeyValueGrpc.newBlockingStub(ch);
    String p = scheme + "/";
    // Watch before writing: the watcher sees both puts, in order.
    java.util.concurrent.BlockingQueue<WatchEvent> events = new java.util.concurrent.LinkedBlockingQueue<>();
    StreamObserver<WatchRequest> watch =
        KeyValueGrpc.newStub(ch)
            .watch(
                new StreamObserver<>() {
                  @Override
                  public void onNext(WatchEvent e) {
                    events.add(e);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    watch.onNext(WatchRequest.newBuilder().setPrefix(p).build());
    // The prefix is registered when the server has read it; a sentinel put tells us it has.
    WatchEvent first = null;
    for (int i = 0; i < 100 && first == null; i++) {
      kv.put(PutRequest.newBuilder().setKey(p + "0-sentinel").build());
      first = events.poll(100, TimeUnit.MILLISECONDS);
    }
    assertTrue(first != null, "watch never saw the sentinel");
    events.clear();
    long v1 = kv.put(PutRequest.newBuilder().setKey(p + "a").setValue(ByteString.copyFromUtf8("1")).build()).getVersion();
    kv.put(PutRequest.newBuilder().setKey(p + "b").setValue(ByteString.copyFromUtf8("2")).build());
    assertEquals("1", kv.get(GetRequest.newBuilder().setKey(p + "a").build()).getValue().toStringUtf8());
    StatusRuntimeException e =
        assertThrows(StatusRuntimeException.class, () -> kv.get(GetRequest.newBuilder().setKey(p + "zz").build()));
    assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode());
    StatusRuntimeException cas =
        assertThrows(
            StatusRuntimeException.class,
            () -> kv.put(PutRequest.newBuilder().setKey(p + "a").setExpectedVersion(v1 + 100).build()));
    assertEquals(Status.Code.FAILED_PRECONDITION, cas.getStatus().getCode());
    List<String> keys = new ArrayList<>();
    kv.scan(ScanRequest.newBuilder().setStartKey(p + "a").setEndKey(p + "~").build()).forEachRemaining((Entry en) -> keys.add(en.getKey()));
    assertEquals(List.of(p + "a", p + "b"), keys);
    List<String> seen = new ArrayList<>();
    while (seen.size() < 2) {
      WatchEvent ev = events.poll(10, TimeUnit.SECONDS);
      assertTrue(ev != null, "missing watch events; saw " + seen);
      if (!ev.getEntry().getKey().endsWith("sentinel")) {
        seen.add(ev.getEntry().getKey());
      }
    }
    assertEquals(List.of(p + "a", p + "b"), seen);
    watch.onCompleted();
  }
}
