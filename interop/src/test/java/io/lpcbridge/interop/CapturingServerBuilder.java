package io.lpcbridge.interop;

import io.grpc.ForwardingServerBuilder;
import io.grpc.ServerBuilder;
import io.lpcbridge.server.BridgeServer;
import io.lpcbridge.server.BridgeServerBuilder;

/**
 * A {@link BridgeServerBuilder} that keeps the server it builds, so the harness can dial its bound
 * target: AbstractInteropTest keeps its own server private.
 */
final class CapturingServerBuilder extends ForwardingServerBuilder<CapturingServerBuilder> {
  private final BridgeServerBuilder delegate;
  private BridgeServer server;

  CapturingServerBuilder(BridgeServerBuilder delegate) {
    this.delegate = delegate;
  }

  @Override
  protected ServerBuilder<?> delegate() {
    return delegate;
  }

  @Override
  public BridgeServer build() {
    server = delegate.build();
    return server;
  }

  /** The server {@link #build} made. */
  BridgeServer server() {
    if (server == null) {
      throw new IllegalStateException("the server is not built yet");
    }
    return server;
  }
}
