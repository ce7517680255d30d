package io.lpcbridge.demo;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo service: one method per call kind. Requests can ask for a failure status, a delay or a
 * response size, so tests and the benchmark can drive every path. {@link #executions()} counts
 * handler invocations, for tests that check a call ran exactly once.
 */
public final class EchoService extends EchoGrpc.EchoImplBase {
  private final AtomicLong executions = new AtomicLong();

  public long executions() {
    return executions.get();
  }

  private static Status requestedFailure(EchoRequest r) {
    if (r.getFailWithCode() == 0) {
      return null;
    }
    return Status.fromCodeValue(r.getFailWithCode()).withDescription(r.getFailWithMessage().isEmpty() ? null : r.getFailWithMessage());
  }

  private static void delay(EchoRequest r) {
    if (r.getDelayMillis() > 0) {
      try {
        Thread.sleep(r.getDelayMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static ByteString responsePayload(EchoRequest r) {
    return r.getResponseSize() > 0 ? ByteString.copyFrom(new byte[r.getResponseSize()]) : r.getPayload();
  }

  @Override
  public void say(EchoRequest request, StreamObserver<EchoResponse> out) {
    executions.incrementAndGet();
    delay(request);
    Status failure = requestedFailure(request);
    if (failure != null) {
      out.onError(failure.asRuntimeException());
      return;
    }
    out.onNext(EchoResponse.newBuilder().setPayload(responsePayload(request)).build());
    out.onCompleted();
  }

  /** Streams {@code response_count} messages, sending only while the client keeps up. */
  @Override
  public void expand(EchoRequest request, StreamObserver<EchoResponse> out) {
    executions.incrementAndGet();
    Status failure = requestedFailure(request);
    if (failure != null) {
      out.onError(failure.asRuntimeException());
      return;
    }
    ServerCallStreamObserver<EchoResponse> obs = (ServerCallStreamObserver<EchoResponse>) out;
    int count = request.getResponseCount();
    ByteString payload = responsePayload(request);
    int[] next = {0};
    AtomicBoolean done = new AtomicBoolean();
    Runnable drain =
        () -> {
          while (obs.isReady() && next[0] < count && !obs.isCancelled()) {
            obs.onNext(EchoResponse.newBuilder().setPayload(payload).setIndex(next[0]++).build());
          }
          if (next[0] >= count && done.compareAndSet(false, true)) {
            obs.onCompleted();
          }
        };
    obs.setOnReadyHandler(drain);
    obs.setOnCancelHandler(() -> {});
    drain.run();
  }

  @Override
  public StreamObserver<EchoRequest> collect(StreamObserver<EchoResponse> out) {
    executions.incrementAndGet();
    return new StreamObserver<>() {
      int count;
      long bytes;
      Status failure;

      @Override
      public void onNext(EchoRequest r) {
        count++;
        bytes += r.getPayload().size();
        if (failure == null) {
          failure = requestedFailure(r);
        }
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        if (failure != null) {
          out.onError(failure.asRuntimeException());
          return;
        }
        out.onNext(EchoResponse.newBuilder().setReceivedCount(count).setReceivedBytes(bytes).build());
        out.onCompleted();
      }
    };
  }

  @Override
  public StreamObserver<EchoRequest> chat(StreamObserver<EchoResponse> out) {
    executions.incrementAndGet();
    return new StreamObserver<>() {
      int index;

      @Override
      public void onNext(EchoRequest r) {
        Status failure = requestedFailure(r);
        if (failure != null) {
          out.onError(failure.asRuntimeException());
          return;
        }
        delay(r);
        out.onNext(EchoResponse.newBuilder().setPayload(responsePayload(r)).setIndex(index++).build());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        out.onCompleted();
      }
    };
  }
}
