package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;

/** The conformance suite over tcp with the NIO event loops forced, the fallback where epoll is missing. */
class TcpNioConformanceTest extends TransportConformanceSuite {
  @Override
  protected Target listenTarget() {
    return Target.parse("tcp://127.0.0.1:0");
  }

  @Override
  protected TransportOptions options() {
    return super.options().with(TcpEventLoops.IO_OPTION, "nio");
  }
}
