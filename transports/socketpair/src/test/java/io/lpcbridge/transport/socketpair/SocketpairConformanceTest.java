package io.lpcbridge.transport.socketpair;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The conformance suite over {@code socketpair:@name}: two components of this process on a real
 * socketpair, with the same I/O as a worker's inherited socket. The suite skips its cases where
 * another process must dial the listener (SPAWNS_PEER); {@link SocketpairProcessTest} covers those
 * with real worker processes.
 */
class SocketpairConformanceTest extends TransportConformanceSuite {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @Override
  protected Target listenTarget() {
    return Target.parse("socketpair:@conformance-" + COUNTER.incrementAndGet());
  }
}
