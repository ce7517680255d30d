package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;

/** The conformance suite over tcp with {@code io=jdk}: JDK sockets, a reader thread per connection, inline receives. */
class TcpJdkConformanceTest extends TransportConformanceSuite {
  @Override
  protected Target listenTarget() {
    return Target.parse("tcp://127.0.0.1:0");
  }

  @Override
  protected TransportOptions options() {
    return super.options().with(TcpEventLoops.IO_OPTION, TcpEventLoops.JDK);
  }
}
