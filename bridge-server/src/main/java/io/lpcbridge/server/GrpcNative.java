package io.lpcbridge.server;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.grpc.GrpcTargets;

/** Stock gRPC servers for {@code grpc://} and {@code grpc+unix://} targets. */
final class GrpcNative {
  private GrpcNative() {}

  static NettyServerBuilder serverBuilder(Target target, TransportOptions options) throws java.io.IOException {
    return GrpcTargets.serverBuilder(target, options);
  }

  static Target boundTarget(Target requested, Server started) {
    return GrpcTargets.boundTarget(requested, started);
  }
}
