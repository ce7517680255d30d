package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.util.concurrent.atomic.AtomicInteger;

/** The conformance suite over shm with the default idle strategy (adaptive). */
class ShmConformanceTest extends TransportConformanceSuite {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @Override
  protected Target listenTarget() {
    return Target.parse("shm://conformance-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
  }
}
