package io.lpcbridge.transport.grpc;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;

/** The conformance suite over stock gRPC on loopback TCP: the reference every transport is held to. */
class GrpcConformanceTest extends TransportConformanceSuite {
  @Override
  protected Target listenTarget() {
    return Target.parse("grpc://127.0.0.1:0");
  }
}
