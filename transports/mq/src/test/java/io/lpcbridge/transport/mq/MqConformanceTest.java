package io.lpcbridge.transport.mq;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The conformance suite over {@code mq:///name}. Queues are sized down (3 messages of 1 KiB) so the
 * suite's 50 simultaneous connections fit the default per-user budget RLIMIT_MSGQUEUE (800 KiB);
 * with the defaults (10 x 8 KiB here) about four connections fit. Small queues also exercise
 * fragmentation on every message over 1 KiB.
 */
class MqConformanceTest extends TransportConformanceSuite {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @Override
  protected Target listenTarget() {
    return Target.parse("mq:///lpcbridge-conformance-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
  }

  @Override
  protected TransportOptions options() {
    return super.options().with("queueDepth", 3).with("messageSize", 1024);
  }
}
