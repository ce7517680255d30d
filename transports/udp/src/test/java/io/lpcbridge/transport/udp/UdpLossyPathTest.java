package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.NumberedMessage;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import io.lpcbridge.transport.udp.UdpStats.Counter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real sockets through a {@link LossyRelay} that drops, duplicates, reorders and replays
 * datagrams: every message reaches the other side exactly once and in order, both ways, and both
 * ends close in order afterwards.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class UdpLossyPathTest {

  /** The options every socket here starts from: the default engine; a subclass picks another. */
  protected TransportOptions base() {
    return TransportOptions.defaults();
  }
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  private TransportOptions options(int datagramSize) {
    return base()
        .with(UdpSettings.DATAGRAM_SIZE, datagramSize)
        .with(TransportOptions.WRITE_HIGH_WATER_MARK, "256k")
        .with(TransportOptions.CONNECT_TIMEOUT, "20s")
        .with(TransportOptions.LINGER, "10s");
  }

  private static Target udp(InetSocketAddress a) {
    return Target.parse("udp://127.0.0.1:" + a.getPort());
  }

  private static InetSocketAddress address(Listener l) {
    return new InetSocketAddress("127.0.0.1", Integer.parseInt(l.localTarget().toString().replaceAll(".*:", "")));
  }

  @ParameterizedTest(name = "{0}% loss each way, datagramSize {1}, {2} messages")
  @CsvSource({"10, 16384, 1000", "30, 16384, 400", "10, 1200, 1000", "30, 1200, 400"})
  void everyMessageIsEchoedExactlyOnceAndInOrder(int lossPercent, int datagramSize, int n) throws Exception {
    TransportOptions options = options(datagramSize);
    try (TestServer server = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), options), RecordingHandler::echoing);
         LossyRelay relay = new LossyRelay(address(server.listener()), lossPercent)) {
      relay.rates(lossPercent / 100.0, 0.02, 0.05);
      relay.replay = 0.01;
      RecordingHandler client = new WritableRecordingHandler();
      Connection c = Transports.connect(udp(relay.address()), options);
      c.start(client);
      TestServer.Accepted s = server.awaitAccepted(TIMEOUT);

      SplittableRandom sizes = new SplittableRandom(lossPercent * 31L + datagramSize);
      for (int i = 0; i < n; i++) {
        awaitWritable(c, (WritableRecordingHandler) client);
        assertTrue(c.send(NumberedMessage.encode(0, i, sizes.nextInt(2 * datagramSize))), "send " + i);
      }
      byte[] marker = "marker".getBytes(StandardCharsets.UTF_8);
      c.send(ByteBuffer.wrap(marker));
      for (int i = 0; i < n; i++) {
        assertEquals(i, NumberedMessage.decode(s.handler().take(TIMEOUT)).sequence(), "order at the server");
        assertEquals(i, NumberedMessage.decode(client.take(TIMEOUT)).sequence(), "order of the echoes");
      }
      assertArrayEquals(marker, client.take(TIMEOUT), "no duplicate or extra message before the marker");

      UdpStats cs = UdpTransportProvider.stats(c).orElseThrow();
      UdpStats ss = UdpTransportProvider.stats(s.connection()).orElseThrow();
      System.err.printf("%d%% loss, datagram %d: %s%n  client %s%n  server %s%n", lossPercent, datagramSize, relay, cs, ss);
      assertTrue(relay.dropped.get() > 0 && relay.duplicated.get() > 0, relay.toString());
      assertTrue(cs.count(Counter.SEGMENTS_RETRANSMITTED) > 0, "the client retransmitted");
      assertTrue(cs.count(Counter.DUPLICATES_DROPPED) + ss.count(Counter.DUPLICATES_DROPPED) > 0, "duplicates were dropped");
      assertEquals(n + 1, cs.count(Counter.MESSAGES_DELIVERED), "messages the client delivered");

      c.close();
      client.awaitClosedInOrder(TIMEOUT);
      s.handler().awaitClosedInOrder(TIMEOUT);
      client.assertContractKept();
      s.handler().assertContractKept();
    }
  }

  @Test
  void oneRequestAtATimeCompletesAtThirtyPercentLoss() throws Exception {
    // The RPC pattern: a lone datagram each way, so every loss is a tail loss.
    TransportOptions options = options(1200);
    try (TestServer server = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), options), RecordingHandler::echoing);
         LossyRelay relay = new LossyRelay(address(server.listener()), 7)) {
      relay.rates(0.30, 0.0, 0.0);
      RecordingHandler client = new RecordingHandler();
      Connection c = Transports.connect(udp(relay.address()), options);
      c.start(client);
      for (int i = 0; i < 200; i++) {
        c.send(NumberedMessage.encode(1, i, 100));
        assertEquals(i, NumberedMessage.decode(client.take(TIMEOUT)).sequence());
      }
      UdpStats cs = UdpTransportProvider.stats(c).orElseThrow();
      System.err.println("request/response at 30% loss: " + relay + "\n  client " + cs);
      assertTrue(cs.count(Counter.TAIL_LOSS_PROBES) > 0, "lost requests were recovered by probes");
      c.close();
      client.awaitClosed(TIMEOUT);
    }
  }

  static void awaitWritable(Connection c, WritableRecordingHandler h) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!c.isWritable()) {
      if (!c.isOpen() || System.nanoTime() > deadline) {
        throw new AssertionError("connection stayed unwritable (open=" + c.isOpen() + ")");
      }
      h.writable.tryAcquire(50, TimeUnit.MILLISECONDS);
    }
  }

  /** Records messages and lets the sender wait for onWritable. */
  static final class WritableRecordingHandler extends RecordingHandler {
    final Semaphore writable = new Semaphore(0);

    @Override
    public void onWritable() {
      super.onWritable();
      writable.release();
    }
  }
}
