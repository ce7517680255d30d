package io.lpcbridge.transport.fifo;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.testkit.TransportConformanceSuite;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.io.TempDir;

/** The conformance suite over {@code fifo:///dir}, a fresh directory per listener. */
class FifoConformanceTest extends TransportConformanceSuite {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @TempDir Path dir;

  @Override
  protected Target listenTarget() {
    return Target.parse("fifo://" + dir.resolve("f" + COUNTER.incrementAndGet()));
  }
}
