package io.lpcbridge.server;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.util.concurrent.CountDownLatch;

/**
 * A child process for crash tests: opens a bidi call to the target in args[0], prints STREAMING
 * once the first reply is back, and keeps streaming until it is killed.
 */
public final class StreamingClientMain {
  private StreamingClientMain() {}

  public static void main(String[] args) throws Exception {
    ManagedChannel ch = BridgeChannelBuilder.forTarget(args[0]).build();
    CountDownLatch first = new CountDownLatch(1);
    StreamObserver<EchoRequest> req =
        EchoGrpc.newStub(ch)
            .chat(
                new StreamObserver<>() {
                  @Override
                  public void onNext(EchoResponse v) {
                    first.countDown();
                  }

                  @Override
                  public void onError(Throwable t) {
                    System.exit(2);
                  }

                  @Override
                  public void onCompleted() {}
                });
    req.onNext(EchoRequest.newBuilder().setDelayMillis(1).build());
    first.await();
    System.out.println("STREAMING");
    System.out.flush();
    while (true) {
      req.onNext(EchoRequest.newBuilder().setDelayMillis(1).build());
      Thread.sleep(5);
    }
  }
}
