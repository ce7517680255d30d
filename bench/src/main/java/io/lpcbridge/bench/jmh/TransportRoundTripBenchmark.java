package io.lpcbridge.bench.jmh;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One SPI transport's round trip inside one JVM: the benchmark thread sends a message on a client
 * {@link Connection}, a listener's connection echoes it from its transport thread, and the answer
 * wakes the benchmark thread. Any transport with a loopback target runs here by name ({@code -p
 * transport=shm} once shm exists); the cross-process figures are {@code bridge bench}'s.
 */
public class TransportRoundTripBenchmark extends NanosPerCall {
  @Param({"tcp", "unix"})
  String transport;

  @Param({"64"})
  int size;

  private Path dir;
  private Listener listener;
  private Connection client;
  private ByteBuffer message;
  private volatile boolean answered;
  private volatile Thread waiter;

  @Setup
  public void setUp() throws Exception {
    TransportProvider p = Transports.providers().stream().filter(t -> t.name().equals(transport)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no transport named " + transport + " on the class path"));
    dir = Files.createTempDirectory("bench-jmh-");
    List<Target> targets = p.loopbackTargets(dir);
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("transport " + transport + " offers no loopback target");
    }
    listener = p.listen(targets.getFirst(), TransportOptions.defaults());
    listener.start(c -> c.start(new MessageHandler() {
      @Override
      public void onMessage(ByteBuffer m) {
        c.send(m);
      }

      @Override
      public void onClosed(Throwable cause) {}
    }));
    client = p.connect(listener.localTarget(), TransportOptions.defaults());
    client.start(new MessageHandler() {
      @Override
      public void onMessage(ByteBuffer m) {
        answered = true;
        LockSupport.unpark(waiter);
      }

      @Override
      public void onClosed(Throwable cause) {}
    });
    message = ByteBuffer.allocate(size);
  }

  @Benchmark
  public boolean roundTrip() {
    waiter = Thread.currentThread();
    answered = false;
    client.send(message);
    while (!answered) {
      LockSupport.parkNanos(1_000_000);
    }
    return true;
  }

  @TearDown
  public void tearDown() throws Exception {
    client.close();
    listener.close();
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
