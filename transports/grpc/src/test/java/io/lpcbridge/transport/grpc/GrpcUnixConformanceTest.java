package io.lpcbridge.transport.grpc;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The conformance suite over stock gRPC on a Unix domain socket (grpc+unix, epoll). */
class GrpcUnixConformanceTest extends TransportConformanceSuite {
  @TempDir Path dir;
  private final AtomicInteger sockets = new AtomicInteger();

  @BeforeEach
  void needsEpoll() {
    Assumptions.assumeTrue(
        GrpcTargets.isUnixAvailable(),
        () -> "grpc+unix needs epoll: " + GrpcTargets.unixUnavailabilityCause().map(Throwable::getMessage).orElse("?"));
  }

  @Override
  protected Target listenTarget() {
    return Target.parse("grpc+unix://" + dir.resolve("t" + sockets.incrementAndGet() + ".sock"));
  }
}
