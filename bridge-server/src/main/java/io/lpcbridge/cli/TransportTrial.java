package io.lpcbridge.cli;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import io.lpcbridge.kv.v1.GetRequest;
import io.lpcbridge.kv.v1.GetResponse;
import io.lpcbridge.kv.v1.KeyValueGrpc;
import io.lpcbridge.kv.v1.PutRequest;
import io.lpcbridge.transport.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;

/**
 * One transport's part of {@code bridge demo}: on one channel, check that every call kind works,
 * then time sequential unary Echo/Say calls through the blocking stub.
 */
final class TransportTrial {
  static final int PAYLOAD_BYTES = 64;
  static final Duration CHECK_DEADLINE = Duration.ofSeconds(10);
  /** A measured call that makes no progress for this long fails the trial instead of hanging the demo. */
  static final Duration STALL_LIMIT = Duration.ofSeconds(30);

  /** Latency in nanoseconds and throughput of the measured calls. */
  record Result(Target target, int calls, long p50Nanos, long p99Nanos, double callsPerSecond) {}

  private final Target target;
  private final java.util.Map<String, String> options;
  private final Progress progress;

  TransportTrial(Target target, Progress progress) {
    this(target, java.util.Map.of(), progress);
  }

  TransportTrial(Target target, java.util.Map<String, String> options, Progress progress) {
    this.target = target;
    this.options = options;
    this.progress = progress;
  }

  /**
   * @throws CliException when a check fails, a call fails or the calls stall
   */
  Result run(int warmupCalls, int measuredCalls) {
    ManagedChannel channel = BridgeChannelBuilder.forTarget(target).transportOptions(options).build();
    try {
      progress.step(target.scheme() + ": checking KeyValue Put/Get and every Echo call kind on " + DemoCommand.display(target));
      check(channel);
      return measure(channel, warmupCalls, measuredCalls);
    } catch (StatusRuntimeException e) {
      throw CliException.failure(target + ": call failed: " + CallCommand.describe(e.getStatus()));
    } finally {
      channel.shutdownNow();
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void check(ManagedChannel channel) {
    KeyValueGrpc.KeyValueBlockingStub kv =
        KeyValueGrpc.newBlockingStub(channel).withDeadlineAfter(CHECK_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    String key = "demo/" + target.scheme();
    ByteString value = ByteString.copyFromUtf8("value over " + target);
    long version = kv.put(PutRequest.newBuilder().setKey(key).setValue(value).build()).getVersion();
    GetResponse got = kv.get(GetRequest.newBuilder().setKey(key).build());
    expect(got.getValue().equals(value) && got.getVersion() == version,
        "KeyValue Get returned version " + got.getVersion() + " and " + got.getValue().size() + " bytes; expected the version " + version
            + " and the " + value.size() + " bytes just put");

    EchoGrpc.EchoBlockingStub echo =
        EchoGrpc.newBlockingStub(channel).withDeadlineAfter(CHECK_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    ByteString payload = ByteString.copyFromUtf8("hello over " + target.scheme());
    EchoResponse said = echo.say(EchoRequest.newBuilder().setPayload(payload).build());
    expect(said.getPayload().equals(payload), "Echo/Say did not echo its payload");

    Iterator<EchoResponse> expanded = echo.expand(EchoRequest.newBuilder().setPayload(payload).setResponseCount(3).build());
    int n = 0;
    while (expanded.hasNext()) {
      EchoResponse r = expanded.next();
      expect(r.getIndex() == n && r.getPayload().equals(payload), "Echo/Expand message " + n + " came with index " + r.getIndex());
      n++;
    }
    expect(n == 3, "Echo/Expand sent " + n + " messages, not 3");

    EchoGrpc.EchoStub async = EchoGrpc.newStub(channel).withDeadlineAfter(CHECK_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    List<EchoResponse> collected = exchange(async::collect, payload, 3);
    expect(collected.size() == 1 && collected.get(0).getReceivedCount() == 3 && collected.get(0).getReceivedBytes() == 3L * payload.size(),
        "Echo/Collect answered " + collected.stream().map(r -> r.getReceivedCount() + " requests, " + r.getReceivedBytes() + " bytes").toList()
            + " to 3 requests of " + payload.size() + " bytes");

    List<EchoResponse> chatted = exchange(async::chat, payload, 3);
    expect(chatted.size() == 3 && chatted.stream().allMatch(r -> r.getPayload().equals(payload)),
        "Echo/Chat answered " + chatted.size() + " of 3 requests");
  }

  /** Sends {@code count} requests on a client- or bidi-streaming call and returns every response. */
  private static List<EchoResponse> exchange(
      java.util.function.Function<StreamObserver<EchoResponse>, StreamObserver<EchoRequest>> method, ByteString payload, int count) {
    List<EchoResponse> responses = new ArrayList<>();
    CompletableFuture<List<EchoResponse>> done = new CompletableFuture<>();
    StreamObserver<EchoRequest> requests =
        method.apply(
            new StreamObserver<>() {
              @Override
              public void onNext(EchoResponse value) {
                synchronized (responses) {
                  responses.add(value);
                }
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                synchronized (responses) {
                  done.complete(List.copyOf(responses));
                }
              }
            });
    for (int i = 0; i < count; i++) {
      requests.onNext(EchoRequest.newBuilder().setPayload(payload).build());
    }
    requests.onCompleted();
    try {
      return done.get(CHECK_DEADLINE.toSeconds() + 5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw CliException.failure("interrupted");
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException sre) {
        throw sre;
      }
      throw CliException.failure("streaming call failed: " + e.getCause());
    } catch (TimeoutException e) {
      throw CliException.failure("a streaming call did not finish within its deadline");
    }
  }

  private void expect(boolean ok, String what) {
    if (!ok) {
      throw CliException.failure(target + ": check failed: " + what);
    }
  }

  private Result measure(ManagedChannel channel, int warmupCalls, int measuredCalls) {
    EchoGrpc.EchoBlockingStub echo = EchoGrpc.newBlockingStub(channel);
    EchoRequest request = EchoRequest.newBuilder().setPayload(ByteString.copyFrom(new byte[PAYLOAD_BYTES])).build();
    AtomicLong completed = new AtomicLong();
    AtomicBoolean stalled = new AtomicBoolean();
    ScheduledExecutorService watchdog =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bridge-demo-watchdog");
              t.setDaemon(true);
              return t;
            });
    long[] lastSeen = {-1};
    long[] lastChange = {System.nanoTime()};
    watchdog.scheduleAtFixedRate(
        () -> {
          long now = completed.get();
          if (now != lastSeen[0]) {
            lastSeen[0] = now;
            lastChange[0] = System.nanoTime();
          } else if (System.nanoTime() - lastChange[0] > STALL_LIMIT.toNanos()) {
            stalled.set(true);
            channel.shutdownNow();
          }
        },
        1, 1, TimeUnit.SECONDS);
    try {
      String label = target.scheme() + ":";
      progress.step(label + " warming up (" + warmupCalls + " calls)");
      for (int i = 0; i < warmupCalls; i++) {
        echo.say(request);
        completed.incrementAndGet();
        progress.bar(label + " warm-up", i + 1, warmupCalls);
      }
      progress.step(label + " measuring " + measuredCalls + " sequential unary calls");
      Histogram h = new Histogram(TimeUnit.SECONDS.toNanos(60), 3);
      long start = System.nanoTime();
      for (int i = 0; i < measuredCalls; i++) {
        long t0 = System.nanoTime();
        echo.say(request);
        h.recordValue(Math.min(System.nanoTime() - t0, h.getHighestTrackableValue()));
        completed.incrementAndGet();
        progress.bar(label + " measuring", i + 1, measuredCalls);
      }
      long elapsed = System.nanoTime() - start;
      progress.done();
      return new Result(
          target, measuredCalls, h.getValueAtPercentile(50), h.getValueAtPercentile(99), measuredCalls * 1e9 / elapsed);
    } catch (StatusRuntimeException e) {
      if (stalled.get()) {
        throw CliException.failure(target + ": no call completed for " + STALL_LIMIT.toSeconds() + " s; gave up");
      }
      throw e;
    } finally {
      watchdog.shutdownNow();
    }
  }
}
