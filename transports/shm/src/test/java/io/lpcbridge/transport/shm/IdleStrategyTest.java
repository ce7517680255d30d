package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.NumberedMessage;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each idle strategy carries messages, in any mix between the two ends, and says which it is. */
class IdleStrategyTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger NAMES = new AtomicInteger();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  @AfterEach
  void closeResources() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  private TestServer serve(String name, TransportOptions options) throws Exception {
    TestServer s = new TestServer(Transports.listen(Target.parse("shm://" + name), options), RecordingHandler::echoing);
    resources.push(s);
    return s;
  }

  private Connection connect(String name, TransportOptions options, RecordingHandler h) throws Exception {
    Connection c = Transports.connect(Target.parse("shm://" + name), options);
    resources.push(c::close);
    c.start(h);
    return c;
  }

  private static String freshName() {
    return "idle-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
  }

  @ParameterizedTest(name = "client {0}, server {1}")
  @CsvSource({
    "adaptive, adaptive",
    "block, block",
    "yield, yield",
    "spin, spin",
    "spin, block",
    "block, yield",
    "yield, adaptive",
  })
  void pingPongInOrderAndEachEndNamesBothStrategies(String clientIdle, String serverIdle) throws Exception {
    String name = freshName();
    TestServer server = serve(name, TransportOptions.defaults().with(IdleStrategy.OPTION, serverIdle).with("spinTime", "0"));
    RecordingHandler client = new RecordingHandler();
    Connection c = connect(name, TransportOptions.defaults().with(IdleStrategy.OPTION, clientIdle), client);
    TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
    assertTrue(c.localAddress().endsWith(" idle=" + clientIdle), c.localAddress());
    assertTrue(c.remoteAddress().endsWith(" idle=" + serverIdle), c.remoteAddress());
    assertTrue(s.connection().localAddress().endsWith(" idle=" + serverIdle), s.connection().localAddress());
    assertTrue(s.connection().remoteAddress().endsWith(" idle=" + clientIdle), s.connection().remoteAddress());
    for (int i = 0; i < 2000; i++) {
      assertTrue(c.send(NumberedMessage.encode(1, i, i % 300)));
      assertEquals(i, NumberedMessage.decode(client.take(TIMEOUT)).sequence());
    }
    c.close();
    client.awaitClosedInOrder(TIMEOUT);
    s.handler().awaitClosedInOrder(TIMEOUT);
    assertEquals(0, ((ShmConnection) c).lateWakeups());
    assertEquals(0, ((ShmConnection) s.connection()).lateWakeups());
  }

  @Test
  void anIdleConnectionUnderTheDefaultStrategyCostsNoCpu() throws Exception {
    String name = freshName();
    TestServer server = serve(name, TransportOptions.defaults());
    RecordingHandler client = new RecordingHandler();
    Connection c = connect(name, TransportOptions.defaults(), client);
    server.awaitAccepted(TIMEOUT);
    c.send(java.nio.ByteBuffer.wrap(new byte[] {1}));
    client.take(TIMEOUT);
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    // Both readers of the connection live in this JVM.
    long[] readers =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("shm reader shm://" + name + " "))
            .mapToLong(Thread::threadId)
            .toArray();
    assertEquals(2, readers.length, "a reader thread per end");
    Thread.sleep(200); // past any spin
    long before = cpu(mx, readers);
    Thread.sleep(1000);
    long used = cpu(mx, readers) - before;
    System.err.printf("IdleStrategyTest: two idle adaptive readers used %.3f ms of CPU in 1 s%n", used / 1e6);
    assertTrue(used < 10_000_000, "idle readers used " + used / 1e6 + " ms of CPU in a second (1% of a core is 10 ms)");
  }

  private static long cpu(ThreadMXBean mx, long[] ids) {
    long sum = 0;
    for (long id : ids) {
      sum += mx.getThreadCpuTime(id);
    }
    return sum;
  }

  @Test
  void adaptiveSpinsOnlyWhileThePeerRunsOnAnotherCpu() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment s = arena.allocate(SegmentDescriptor.CONTROL_LENGTH, 64);
      s.set(ValueLayout.JAVA_INT, SegmentDescriptor.SERVER_CPU_OFFSET, -1); // the peer has not waited yet
      CpuHint cpus = new CpuHint(s, SegmentDescriptor.CLIENT_CPU_OFFSET, SegmentDescriptor.SERVER_CPU_OFFSET);
      AdaptiveIdler idler = new AdaptiveIdler(new Doorbell(s.asSlice(SegmentDescriptor.CLIENT_DOORBELL_OFFSET, 4)), cpus);
      assertEquals(AdaptiveIdler.SPIN_NANOS, idler.spinNanosForThisWait(), "spins while the peer is elsewhere");
      assertTrue(s.get(ValueLayout.JAVA_INT, SegmentDescriptor.CLIENT_CPU_OFFSET) >= 0, "and publishes its own CPU");

      // A peer that last ran on this very CPU: no spin at all. The thread may migrate between
      // the two reads of its CPU, so most, not all, waits are checked.
      int sharing = 0;
      for (int i = 0; i < 100; i++) {
        s.set(ValueLayout.JAVA_INT, SegmentDescriptor.SERVER_CPU_OFFSET, io.lpcbridge.nativeio.Sched.currentCpu());
        if (idler.spinNanosForThisWait() == 0) {
          sharing++;
        }
      }
      assertTrue(sharing > 50, "no spin while sharing the CPU (" + sharing + " of 100)");
    }
  }

  @Test
  void strategiesParseByOptionValueAndRefuseOthersListingThem() {
    assertEquals(IdleStrategy.ADAPTIVE, IdleStrategy.parse(null));
    assertEquals(IdleStrategy.SPIN, IdleStrategy.parse(" Spin "));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdleStrategy.parse("fast"));
    assertEquals("transport option idle='fast' is not an idle strategy; use one of adaptive, block, yield, spin", e.getMessage());
    assertArrayEquals(
        new String[] {"adaptive", "block", "yield", "spin"},
        java.util.Arrays.stream(IdleStrategy.values()).map(IdleStrategy::optionValue).toArray());
  }
}
