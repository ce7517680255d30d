package io.lpcbridge.client;

import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportUnavailableException;
import io.lpcbridge.transport.grpc.GrpcTargets;

/** Stock gRPC channels for {@code grpc://} and {@code grpc+unix://} targets. */
final class GrpcNative {
  private GrpcNative() {}

  static NettyChannelBuilder channelBuilder(Target target, TransportOptions options) {
    try {
      return GrpcTargets.channelBuilder(target, options);
    } catch (TransportUnavailableException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }
}
