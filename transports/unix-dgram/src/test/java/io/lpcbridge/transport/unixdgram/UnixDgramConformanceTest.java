package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The conformance suite over a socket file, and (nested) over an abstract name. */
class UnixDgramConformanceTest extends TransportConformanceSuite {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @TempDir Path dir;

  @Override
  protected Target listenTarget() {
    return Target.parse("unix+dgram://" + dir.resolve("d" + COUNTER.incrementAndGet() + ".sock"));
  }

  @Nested
  class AbstractNamespace extends TransportConformanceSuite {
    @Override
    protected Target listenTarget() {
      return Target.parse("unix+dgram:@lpcbridge-dgram-conformance-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
    }
  }
}
