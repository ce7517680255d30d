package io.lpcbridge.interop;

import io.grpc.ForwardingServerBuilder;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.testing.integration.AbstractInteropTest;
import java.net.InetSocketAddress;

/**
 * The baseline: gRPC's interop cases on stock grpc-netty (NettyServerBuilder, NettyChannelBuilder)
 * over localhost TCP, with no bridge code in the path and the same settings as {@link
 * BridgeInteropCases}. A case failing here is a harness or dependency problem, not a bridge bug.
 */
final class StockGrpcInteropCases extends AbstractInteropTest {
  private Server server;

  @Override
  protected ServerBuilder<?> getServerBuilder() {
    NettyServerBuilder netty =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .maxInboundMessageSize(MAX_MESSAGE_SIZE)
            .flowControlWindow(TEST_FLOW_CONTROL_WINDOW);
    return new Capturing(netty);
  }

  @Override
  protected ManagedChannelBuilder<?> createChannelBuilder() {
    return NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
        .usePlaintext()
        .maxInboundMessageSize(MAX_MESSAGE_SIZE)
        .flowControlWindow(TEST_FLOW_CONTROL_WINDOW);
  }

  @Override
  protected boolean metricsExpected() {
    return false; // as for the bridge runs: no census module is installed
  }

  @Override
  public String toString() {
    return "stock grpc-netty";
  }

  /** Forwards everything to NettyServerBuilder and keeps the server it builds, for its port. */
  private final class Capturing extends ForwardingServerBuilder<Capturing> {
    private final NettyServerBuilder delegate;

    Capturing(NettyServerBuilder delegate) {
      this.delegate = delegate;
    }

    @Override
    protected ServerBuilder<?> delegate() {
      return delegate;
    }

    @Override
    public Server build() {
      server = delegate.build();
      return server;
    }
  }
}
