package io.lpcbridge.transport.udp;

import static io.lpcbridge.transport.udp.SimulatedLink.MS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.testkit.NumberedMessage;
import io.lpcbridge.transport.udp.SimulatedLink.Endpoint;
import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reliability state machine stepped by hand over a {@link SimulatedLink}: every loss, reorder
 * and duplicate is placed on purpose (or drawn from a fixed seed), the clock is simulated, and the
 * counters say which mechanism recovered.
 */
class ReliableSessionTest {

  private static byte[] message(int sender, long seq, int payload) {
    ByteBuffer b = NumberedMessage.encode(sender, seq, payload);
    byte[] m = new byte[b.remaining()];
    b.get(m);
    return m;
  }

  private static void assertInOrder(List<byte[]> delivered, int sender, int expected) {
    assertEquals(expected, delivered.size(), "messages delivered");
    for (int i = 0; i < expected; i++) {
      NumberedMessage.Header h = NumberedMessage.decode(delivered.get(i));
      assertEquals(sender, h.sender(), "sender of message " + i);
      assertEquals(i, h.sequence(), "order at message " + i);
    }
  }

  /** Whether a datagram carries chunks (rather than being a pure acknowledgement). */
  private static boolean hasChunks(ByteBuf d) {
    int sacks = d.getUnsignedByte(d.readerIndex() + Wire.SACK_COUNT_OFFSET);
    return Packets.type(d) == Wire.TYPE_SESSION
        && d.readableBytes() > Wire.SESSION_HEADER_LENGTH + sacks * Wire.SACK_BLOCK_LENGTH;
  }

  // ---------------------------------------------------------------- plain delivery

  @Test
  void deliversMessagesOfEverySizeInOrderWithoutRetransmission() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    int n = 200;
    SplittableRandom sizes = new SplittableRandom(1);
    for (int i = 0; i < n; i++) {
      link.a.send(message(0, i, i % 50 == 0 ? 20_000 : sizes.nextInt(3000)));
    }
    link.runUntil(() -> link.b.delivered.size() == n, 10_000 * MS);
    assertInOrder(link.b.delivered, 0, n);
    assertEquals(0, link.a.count(Counter.SEGMENTS_RETRANSMITTED), "retransmissions on a perfect link");
    assertEquals(0, link.b.count(Counter.DUPLICATES_DROPPED));
    link.runFor(100 * MS);
    assertEquals(0, link.a.session.sender().unacknowledgedBytes(), "everything acknowledged");
  }

  @Test
  void smallMessagesShareDatagramsAndLargeOnesAreCutToTheDatagramSize() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    for (int i = 0; i < 10; i++) {
      link.a.session.offer(new byte[10]);
    }
    link.a.session.flush(link.now);
    assertEquals(1, link.a.sent.size(), "ten 10-byte messages fit in one 1200-byte datagram");
    link.a.drainOut();
    link.a.session.offer(new byte[5000]);
    link.a.session.flush(link.now);
    int chunks = (5000 + Sender.maxChunkData(1200) - 1) / Sender.maxChunkData(1200);
    assertEquals(chunks, link.a.sent.size(), "a 5000-byte message in 1200-byte datagrams");
    for (ByteBuf d : link.a.sent) {
      assertTrue(d.readableBytes() <= 1200, "datagram of " + d.readableBytes() + " bytes");
    }
    link.a.drainOut();
    link.runUntil(() -> link.b.delivered.size() == 11, 1000 * MS);
    assertEquals(5000, link.b.delivered.get(10).length);
  }

  // ---------------------------------------------------------------- loss, reorder, duplicates

  @Test
  void aLostChunkIsFastRetransmittedOnceLaterOnesAreAcknowledged() {
    SimulatedLink link = new SimulatedLink();
    AtomicInteger dataDatagrams = new AtomicInteger();
    link.network = (from, d) -> from == link.a && hasChunks(d) && dataDatagrams.incrementAndGet() == 2
        ? new long[0] : new long[] {link.delay};
    link.start();
    for (int i = 0; i < 10; i++) {
      link.a.send(message(0, i, 1000)); // one datagram each
    }
    link.runUntil(() -> link.b.delivered.size() == 10, 1000 * MS);
    assertInOrder(link.b.delivered, 0, 10);
    assertEquals(1, link.a.count(Counter.FAST_RETRANSMITS), "declared lost by later acknowledgements");
    assertEquals(1, link.a.count(Counter.SEGMENTS_RETRANSMITTED));
    assertEquals(0, link.a.count(Counter.RETRANSMISSION_TIMEOUTS), "no timeout was needed");
    assertEquals(1, link.a.count(Counter.LOSS_EVENTS));
  }

  @Test
  void datagramsReorderedWithinAnEighthOfTheRoundTripAreNotRetransmitted() {
    SimulatedLink link = new SimulatedLink();
    AtomicInteger dataDatagrams = new AtomicInteger();
    // The first data datagram arrives 0.2 ms after the second: 1/10 of the 2 ms round trip.
    link.network = (from, d) -> new long[] {
        from == link.a && hasChunks(d) && dataDatagrams.incrementAndGet() == 1 ? link.delay + MS / 5 : link.delay};
    link.start();
    link.a.session.offer(message(0, 0, 1000));
    link.a.session.offer(message(0, 1, 1000));
    link.a.session.flush(link.now);
    link.a.drainOut();
    link.runUntil(() -> link.b.delivered.size() == 2, 1000 * MS);
    assertInOrder(link.b.delivered, 0, 2);
    link.runFor(200 * MS);
    assertEquals(0, link.a.count(Counter.SEGMENTS_RETRANSMITTED), "reordering is not loss");
  }

  @Test
  void duplicatedDatagramsAreDeliveredOnceAndCounted() {
    SimulatedLink link = new SimulatedLink();
    link.network = (from, d) -> new long[] {link.delay, link.delay + MS / 2};
    link.start();
    for (int i = 0; i < 50; i++) {
      link.a.send(message(0, i, 700));
      link.b.send(message(1, i, 300));
    }
    link.runUntil(() -> link.b.delivered.size() == 50 && link.a.delivered.size() == 50, 1000 * MS);
    link.runFor(100 * MS);
    assertInOrder(link.b.delivered, 0, 50);
    assertInOrder(link.a.delivered, 1, 50);
    assertTrue(link.b.count(Counter.DUPLICATES_DROPPED) >= 50, "B dropped duplicates: " + link.b.count(Counter.DUPLICATES_DROPPED));
    assertTrue(link.a.count(Counter.DUPLICATES_DROPPED) >= 50, "A dropped duplicates");
  }

  @Test
  void aReplayedOldDatagramIsDroppedAndTheSessionGoesOn() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    link.a.send(message(0, 0, 100));
    link.runUntil(() -> link.b.delivered.size() == 1, 100 * MS);
    byte[] old = link.a.history.stream().filter(h -> hasChunks(io.netty.buffer.Unpooled.wrappedBuffer(h)))
        .findFirst().orElseThrow();
    link.runFor(500 * MS);
    for (int i = 0; i < 5; i++) {
      link.b.receive(old.clone());
    }
    assertEquals(5, link.b.count(Counter.DUPLICATES_DROPPED));
    link.a.send(message(0, 1, 100));
    link.runUntil(() -> link.b.delivered.size() == 2, 100 * MS);
    assertInOrder(link.b.delivered, 0, 2);
  }

  // ---------------------------------------------------------------- timers

  @Test
  void probesComeFirstThenTheRetransmissionTimeoutDoublesUpToItsCapAndTheIdleTimeoutEndsIt() {
    SimulatedLink link = new SimulatedLink();
    List<Long> timeouts = new ArrayList<>();
    List<Long> probes = new ArrayList<>();
    link.network = (from, d) -> {
      if (from == link.a && link.a.count(Counter.RETRANSMISSION_TIMEOUTS) > timeouts.size()) {
        timeouts.add(link.now);
      }
      if (from == link.a && link.a.count(Counter.TAIL_LOSS_PROBES) > probes.size()) {
        probes.add(link.now);
      }
      return new long[0]; // the path is gone both ways
    };
    link.start();
    long t0 = link.now;
    link.a.send(message(0, 0, 100));
    link.runUntil(() -> link.a.closed, 10_000 * MS);
    // The handshake sample (2 ms) gives SRTT 2, RTTVAR 1: PTO = 2 + 4 + 1 (ack delay) = 7 ms, doubling;
    // RTO = max(the simulation's minRto 50 ms, 2 + 4 * 1) = 50 ms, doubling up to 1 s.
    assertEquals(List.of(7L, 21L), probes.subList(0, 2).stream().map(t -> (t - t0) / MS).toList(), "first probes, ms");
    List<Long> gaps = new ArrayList<>();
    for (int i = 0; i < timeouts.size(); i++) {
      gaps.add((timeouts.get(i) - (i == 0 ? t0 : timeouts.get(i - 1))) / MS);
    }
    assertEquals(List.of(50L, 100L, 200L, 400L, 800L, 1000L, 1000L), gaps.subList(0, 7), "gaps between timeouts, ms");
    assertInstanceOf(IOException.class, link.a.closeCause);
    assertTrue(link.a.closeCause.getMessage().contains("sent nothing valid for 5s (idleTimeout)"), link.a.closeCause.getMessage());
    assertEquals(5000, (link.now - t0) / MS, "A gives up exactly at idleTimeout after it last heard from B");
  }

  @Test
  void keepalivesKeepAnIdleSessionAliveAndASilentPeerIsDeclaredDeadAtTheIdleTimeout() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    link.runFor(20_000 * MS);
    assertFalse(link.a.closed, "an idle session with a live peer stays open");
    assertTrue(link.a.count(Counter.PINGS_SENT) >= 15, "A sent keepalives: " + link.a.count(Counter.PINGS_SENT));
    long silentFrom = link.now;
    link.network = (from, d) -> new long[0];
    link.runUntil(() -> link.a.closed && link.b.closed, 10_000 * MS);
    long took = (link.now - silentFrom) / MS;
    assertTrue(took <= 5000 && took >= 4000, "declared dead " + took + " ms after the link went silent (idleTimeout 5 s)");
  }

  // ---------------------------------------------------------------- fragmentation and memory

  @Test
  void largeMessagesAreReassembledFromShuffledChunksWithinTheWindowBound() {
    SimulatedLink link = new SimulatedLink(c -> SimulatedLink.withWindow(c, 32));
    link.network = SimulatedLink.lossy(7, 0.0, 0.0, 0.5, link.delay);
    link.start();
    int[] sizes = {100_000, 0, 1, 1119, 1120, 1121, 250_000};
    for (int i = 0; i < sizes.length; i++) {
      link.a.session.offer(NumberedMessage.pattern(sizes[i]));
    }
    link.flushBoth();
    long maxHeld = 0;
    while (link.b.delivered.size() < sizes.length) {
      link.runFor(MS);
      maxHeld = Math.max(maxHeld, link.b.session.receiver().heldBytes());
    }
    for (int i = 0; i < sizes.length; i++) {
      assertArrayEquals(NumberedMessage.pattern(sizes[i]), link.b.delivered.get(i), "message " + i);
    }
    long bound = 32L * 1200 + 250_000;
    assertTrue(maxHeld <= bound, "receiver held " + maxHeld + " bytes, bound " + bound);
  }

  @Test
  void aMessageOverMaxMessageSizeFailsTheSessionNamingBothSizes() {
    SimulatedLink link = new SimulatedLink(c -> SimulatedLink.withMaxMessageSize(c, c.localCid() == 1 ? 4 * 1024 * 1024 : 1024 * 1024));
    link.start();
    link.a.send(new byte[2 * 1024 * 1024]);
    link.runUntil(() -> link.b.closed, 1000 * MS);
    assertInstanceOf(ProtocolException.class, link.b.closeCause);
    String m = link.b.closeCause.getMessage();
    assertTrue(m.contains("2097152") && m.contains("1048576") && m.contains("maxMessageSize"), m);
    link.runUntil(() -> link.a.closed, 1000 * MS);
    assertTrue(link.a.closeCause.getMessage().contains("reset the connection"), link.a.closeCause.getMessage());
  }

  @Test
  void reassemblyGrowsWithTheDataThatArrivedNotWithTheAnnouncedLength() {
    SimulatedLink link = new SimulatedLink();
    AtomicInteger dataDatagrams = new AtomicInteger();
    link.network = (from, d) -> from == link.a && hasChunks(d) && dataDatagrams.incrementAndGet() > 1
        ? new long[0] : new long[] {link.delay};
    link.start();
    link.a.send(new byte[4 * 1024 * 1024]);
    link.runFor(10 * MS);
    long held = link.b.session.receiver().heldBytes();
    assertTrue(held <= Receiver.INITIAL_REASSEMBLY, "one chunk of a 4 MiB message holds " + held + " bytes");
  }

  @Test
  void chunksBeyondTheWindowAreDroppedAndTheSenderNeverExceedsIt() {
    SimulatedLink link = new SimulatedLink(c -> SimulatedLink.withWindow(c, 16));
    link.a.session.start(link.now); // B is not started: it holds what arrives and acknowledges nothing cumulatively
    for (int i = 0; i < 100; i++) {
      link.a.session.offer(message(0, i, 500));
    }
    long maxSpan = 0;
    link.a.session.flush(link.now);
    link.a.drainOut();
    for (int i = 0; i < 500; i++) {
      link.runFor(MS);
      Sender s = link.a.session.sender();
      maxSpan = Math.max(maxSpan, s.nextSequence() - s.oldestUnacknowledged());
    }
    assertEquals(16, maxSpan, "sequence numbers in flight never exceed the peer's window");
    assertTrue(link.b.session.receiver().heldBytes() <= 16 * 1200);
    assertEquals(0, link.b.delivered.size(), "nothing delivered before start()");
    link.b.session.start(link.now);
    link.flushBoth();
    link.runUntil(() -> link.b.delivered.size() == 100, 5000 * MS);
    assertInOrder(link.b.delivered, 0, 100);
  }

  @Test
  void aForgedChunkBeyondTheWindowIsDroppedAndCounted() {
    SimulatedLink link = new SimulatedLink(c -> SimulatedLink.withWindow(c, 16));
    link.start();
    link.b.receive(chunkDatagram(2, 0, 1000, 10, 0, 10)); // sequence 1000: far beyond the window
    assertEquals(1, link.b.count(Counter.OUT_OF_WINDOW_DROPPED));
    link.a.send(message(0, 0, 10));
    link.runUntil(() -> link.b.delivered.size() == 1, 100 * MS);
  }

  @Test
  void aChunkThatContradictsItsMessageFailsTheSession() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    link.b.receive(chunkDatagram(2, 0, 0, 3000, 0, 100)); // first chunk of a 3000-byte message
    link.b.receive(chunkDatagram(2, 0, 1, 3000, 500, 100)); // but the next claims offset 500, not 100
    assertInstanceOf(ProtocolException.class, link.b.closeCause);
    assertTrue(link.b.closeCause.getMessage().contains("offset 500"), link.b.closeCause.getMessage());
  }

  /** A SESSION datagram to the session with id {@code dest}, acking nothing, with one chunk. */
  static byte[] chunkDatagram(long dest, long cumAck, long seq, int messageLength, int offset, int length) {
    ByteBuf d = io.netty.buffer.Unpooled.buffer();
    Packets.writeHeader(d, Wire.TYPE_SESSION, dest);
    d.writeByte(0).writeByte(0).writeShort(0).writeLong(cumAck).writeInt(64);
    d.writeLong(seq).writeInt(messageLength).writeInt(offset).writeShort(length).writeByte(0).writeByte(0);
    d.writeZero(length);
    byte[] b = new byte[d.readableBytes()];
    d.readBytes(b);
    return b;
  }

  // ---------------------------------------------------------------- congestion control

  @Test
  void aLossEventReducesTheCongestionWindowOncePerFlight() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    for (int i = 0; i < 400; i++) {
      link.a.session.offer(message(0, i, 1100));
    }
    link.flushBoth();
    link.runUntil(() -> link.b.delivered.size() == 400, 5000 * MS);
    long grown = link.a.session.sender().congestion().window();
    assertTrue(grown > CongestionControl.INITIAL_SEGMENTS * 1200L, "slow start grew the window to " + grown);

    AtomicInteger n = new AtomicInteger();
    link.network = (from, d) -> from == link.a && hasChunks(d) && (n.incrementAndGet() % 10 == 3)
        ? new long[0] : new long[] {link.delay}; // several losses in one flight
    for (int i = 400; i < 420; i++) {
      link.a.session.offer(message(0, i, 1100));
    }
    link.flushBoth();
    link.runUntil(() -> link.b.delivered.size() == 420, 5000 * MS);
    assertEquals(1, link.a.count(Counter.LOSS_EVENTS), "losses from one flight are one event");
    long after = link.a.session.sender().congestion().window();
    assertTrue(after <= grown * CongestionControl.BETA_PERCENT / 100 + 20 * 1200, "window " + grown + " became " + after);
  }

  @Test
  void congestionAvoidanceAddsAboutOneSegmentPerWindowAcknowledged() {
    CongestionControl cc = new CongestionControl(1000);
    cc.onLost(0, 0); // ssthresh = cwnd = 0.7 * 10 000
    assertEquals(7000, cc.window());
    assertFalse(cc.inSlowStart());
    cc.onLost(0, 0);
    assertEquals(7000, cc.window(), "a second loss from the same flight");
    for (int i = 0; i < 7; i++) {
      cc.onAcked(1000, 10 + i, true);
    }
    assertTrue(cc.window() >= 7800 && cc.window() <= 8000, "one window acknowledged: " + cc.window());
    cc.onTimeout(100);
    assertEquals(1000, cc.window(), "a timeout leaves one segment");
    cc.onAcked(1000, 50, true);
    assertEquals(1000, cc.window(), "acks of chunks sent before the timeout do not grow it");
    cc.onAcked(1000, 101, false);
    assertEquals(1000, cc.window(), "an application-limited sender does not grow it");
    cc.onAcked(1000, 102, true);
    assertEquals(2000, cc.window(), "slow start again");
  }

  // ---------------------------------------------------------------- close and reset

  @Test
  void closeDeliversEverythingThenBothSidesCloseInOrder() {
    SimulatedLink link = new SimulatedLink();
    link.network = SimulatedLink.lossy(3, 0.2, 0.05, 0.1, link.delay);
    link.start();
    for (int i = 0; i < 100; i++) {
      link.a.session.offer(message(0, i, 2000));
    }
    link.a.session.close(link.now);
    link.flushBoth();
    link.runUntil(() -> link.a.terminated && link.b.terminated, 20_000 * MS);
    assertInOrder(link.b.delivered, 0, 100);
    assertNull(link.a.closeCause, "A closed in order");
    assertNull(link.b.closeCause, "B closed in order");
    assertTrue(link.b.peerFinished);
  }

  @Test
  void aThrowingHandlerFailsItsSideWithThatExceptionAndResetsThePeer() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    RuntimeException boom = new IllegalStateException("handler blew up");
    link.b.throwOnMessage = boom;
    link.a.send(message(0, 0, 10));
    link.a.send(message(0, 1, 10));
    link.runUntil(() -> link.a.closed && link.b.closed, 1000 * MS);
    assertTrue(link.b.closeCause == boom, "B reports its handler's exception");
    assertTrue(link.a.closeCause.getMessage().contains("handler blew up"), link.a.closeCause.getMessage());
  }

  // ---------------------------------------------------------------- random loss

  @ParameterizedTest(name = "{0}% loss, seed {1}")
  @CsvSource({"10, 1", "10, 2", "30, 3", "30, 4"})
  void everyMessageArrivesExactlyOnceInOrderUnderRandomLossBothWays(int lossPercent, long seed) {
    SimulatedLink link = new SimulatedLink();
    link.network = SimulatedLink.lossy(seed, lossPercent / 100.0, 0.05, 0.1, link.delay);
    link.start();
    int n = 1000;
    SplittableRandom sizes = new SplittableRandom(seed);
    for (int i = 0; i < n; i++) {
      link.a.session.offer(message(0, i, sizes.nextInt(4000)));
      link.b.session.offer(message(1, i, sizes.nextInt(200)));
    }
    link.flushBoth();
    link.runUntil(() -> link.b.delivered.size() == n && link.a.delivered.size() == n, 600_000 * MS);
    assertInOrder(link.b.delivered, 0, n);
    assertInOrder(link.a.delivered, 1, n);
    assertFalse(link.a.closed || link.b.closed, "the session survived");
    assertTrue(link.a.count(Counter.SEGMENTS_RETRANSMITTED) > 0);
    System.err.printf("simulated %d%% loss: A retransmitted %d (fast %d, timeouts %d), %.1f s simulated%n",
        lossPercent, link.a.count(Counter.SEGMENTS_RETRANSMITTED), link.a.count(Counter.FAST_RETRANSMITS),
        link.a.count(Counter.RETRANSMISSION_TIMEOUTS), (link.now - 1_000 * MS) / 1e9);
  }

  @Test
  void invalidAcknowledgementsAreDroppedAndCounted() {
    SimulatedLink link = new SimulatedLink();
    link.start();
    link.b.receive(chunkDatagramAcking(2, 99)); // acknowledges sequence numbers B never sent
    assertEquals(1, link.b.count(Counter.INVALID_ACK_DROPPED));
    assertFalse(link.b.closed);
  }

  private static byte[] chunkDatagramAcking(long dest, long cumAck) {
    ByteBuf d = io.netty.buffer.Unpooled.buffer();
    Packets.writeHeader(d, Wire.TYPE_SESSION, dest);
    d.writeByte(0).writeByte(0).writeShort(0).writeLong(cumAck).writeInt(64);
    byte[] b = new byte[d.readableBytes()];
    d.readBytes(b);
    return b;
  }
}
