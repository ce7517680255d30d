package io.lpcbridge.transport.pipe;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The conformance suite over {@code pipe:@name}: both ends in this process, over two real pipes
 * and the same poll()-based I/O as a child's stdio. The suite skips its cases where another process
 * must dial the listener (pipe has SPAWNS_PEER); {@link PipeProcessTest} covers those with real
 * child processes.
 */
class PipeConformanceTest extends TransportConformanceSuite {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @Override
  protected Target listenTarget() {
    return Target.parse("pipe:@conformance-" + COUNTER.incrementAndGet());
  }
}
