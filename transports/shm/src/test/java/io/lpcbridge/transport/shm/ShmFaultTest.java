package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.ConformancePeer;
import io.lpcbridge.transport.testkit.NumberedMessage;
import io.lpcbridge.transport.testkit.PeerProcess;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Peers that die with SIGKILL or scribble over a live segment, in real child processes: the
 * survivor fails only the affected connection, promptly, frees the segment, and leaves nothing in
 * /dev/shm.
 */
class ShmFaultTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final Duration PEER_START = Duration.ofSeconds(30);
  /** Issue 3: "the client's pending calls fail within a second". */
  private static final Duration DEATH_NOTICED = Duration.ofSeconds(1);
  private static final AtomicInteger NAMES = new AtomicInteger();

  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  private static String freshName() {
    return "fault-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.push(resource);
    return resource;
  }

  @AfterEach
  void closeResources() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  private TestServer serve(String name, java.util.function.Function<Connection, RecordingHandler> handlers)
      throws Exception {
    Listener l = Transports.listen(Target.parse("shm://" + name), TransportOptions.defaults());
    return track(new TestServer(l, handlers));
  }

  private Connection connect(String name, RecordingHandler handler) throws Exception {
    Connection c = Transports.connect(Target.parse("shm://" + name), TransportOptions.defaults());
    track(c::close);
    c.start(handler);
    return c;
  }

  private static Set<String> ours(Set<String> devShm) {
    Set<String> s = new TreeSet<>();
    for (String n : devShm) {
      if (n.contains("lpcbridge")) {
        s.add(n);
      }
    }
    return s;
  }

  @Test
  void clientKilledMidStreamIsNoticedSegmentFreedAndDevShmClean() throws Exception {
    Set<String> devShmBefore = SegmentTraces.devShm();
    String name = freshName();
    TestServer server = serve(name, RecordingHandler::echoing);
    PeerProcess peer = track(PeerProcess.start(ConformancePeer.class, "connect", "shm://" + name));
    TestServer.Accepted s = server.awaitAccepted(PEER_START);
    for (int i = 0; i < 20; i++) {
      assertEquals(i, NumberedMessage.decode(s.handler().take(PEER_START)).sequence());
    }
    assertEquals(1, SegmentTraces.mappings(name).size(), "the server maps the connection's segment once");
    assertEquals(List.of(), SegmentTraces.descriptors(name), "the memfd itself was closed after the handshake");

    peer.kill();
    Throwable cause = s.handler().awaitClosed(DEATH_NOTICED);
    assertInstanceOf(java.io.IOException.class, cause);
    assertTrue(cause.getMessage().contains("is gone"), cause.getMessage());
    assertFalse(s.connection().isOpen());
    s.handler().assertContractKept();
    assertEquals(List.of(), SegmentTraces.mappings(name), "the survivor unmapped the segment");
    assertEquals(ours(devShmBefore), ours(SegmentTraces.devShm()), "nothing of ours in /dev/shm");

    RecordingHandler client = new RecordingHandler();
    Connection c = connect(name, client);
    c.send(ByteBuffer.wrap("after".getBytes(StandardCharsets.UTF_8)));
    assertArrayEquals("after".getBytes(StandardCharsets.UTF_8), client.take(TIMEOUT), "the listener serves on");
  }

  @Test
  void serverKilledFailsTheClientWithinASecondAndFreesItsSegment() throws Exception {
    String name = freshName();
    PeerProcess peer = track(PeerProcess.start(ConformancePeer.class, "listen", "shm://" + name));
    Target target = Target.parse(peer.awaitLine(ConformancePeer.LISTENING, PEER_START));
    assertEquals("shm://" + name, target.toString());
    RecordingHandler client = new RecordingHandler();
    Connection c = connect(name, client);
    for (int i = 0; i < 10; i++) {
      assertEquals(i, NumberedMessage.decode(client.take(PEER_START)).sequence());
    }
    assertEquals(1, SegmentTraces.mappings(name).size());

    peer.kill();
    long killed = System.nanoTime();
    Throwable cause = client.awaitClosed(DEATH_NOTICED);
    System.err.printf("ShmFaultTest: client noticed the killed server %.1f ms after it was reaped: %s%n",
        (System.nanoTime() - killed) / 1e6, cause);
    assertTrue(cause != null && cause.getMessage().contains("is gone"), String.valueOf(cause));
    assertFalse(c.isOpen());
    assertFalse(c.send(ByteBuffer.allocate(1)), "send after the peer died");
    assertEquals(List.of(), SegmentTraces.mappings(name), "the client unmapped the segment");
    client.assertContractKept();
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"tail", "length", "type", "head", "garbage"})
  void corruptSegmentFailsOnlyThatConnection(String what) throws Exception {
    String name = freshName();
    TestServer server = serve(name, RecordingHandler::echoing);
    RecordingHandler good = new RecordingHandler();
    Connection goodConnection = connect(name, good);
    TestServer.Accepted goodAccepted = server.awaitAccepted(TIMEOUT);

    PeerProcess peer = track(PeerProcess.start(ShmTestPeer.class, "corrupt", "shm://" + name, what));
    peer.awaitLine("CONNECTED", PEER_START);
    TestServer.Accepted bad = server.awaitAccepted(PEER_START);
    for (int i = 0; i < 3; i++) {
      assertEquals("before " + i, new String(bad.handler().take(TIMEOUT), StandardCharsets.UTF_8));
    }
    // The good connection's segment is mapped by both of its ends, both in this JVM.
    assertEquals(3, SegmentTraces.mappings(name).size(), "two connections' segments");
    peer.tell("CORRUPT");
    peer.awaitLine("CORRUPTED", TIMEOUT);
    if (what.equals("head")) {
      // A scribbled Head is found when the server next needs room in the ring it writes.
      ByteBuffer chunk = ByteBuffer.allocate(16 * 1024);
      for (int i = 0; i < 1000 && bad.connection().isOpen(); i++) {
        bad.connection().send(chunk.duplicate());
      }
    }
    Throwable cause = bad.handler().awaitClosed(TIMEOUT);
    System.err.println("ShmFaultTest: corrupt " + what + " -> " + cause);
    assertInstanceOf(ShmProtocolException.class, cause);
    assertTrue(cause.getMessage().contains("corrupted the segment"), cause.getMessage());
    bad.handler().assertContractKept();
    assertEquals(2, SegmentTraces.mappings(name).size(), "the corrupt connection's segment is unmapped");

    byte[] ping = "still fine".getBytes(StandardCharsets.UTF_8);
    assertTrue(goodConnection.send(ByteBuffer.wrap(ping)));
    assertArrayEquals(ping, goodAccepted.handler().take(TIMEOUT), "the other client's connection is untouched");
    assertArrayEquals(ping, good.take(TIMEOUT));
    RecordingHandler fresh = new RecordingHandler();
    connect(name, fresh).send(ByteBuffer.wrap(ping));
    assertArrayEquals(ping, fresh.take(TIMEOUT), "and the listener accepts new ones");
    good.assertContractKept();
  }

  @Test
  void aStalledServerBackpressuresAFloodingClientProcessAndLosesNothing() throws Exception {
    String name = freshName();
    long count = 200_000;
    java.util.concurrent.CountDownLatch stalled = new java.util.concurrent.CountDownLatch(1);
    long[] next = {0};
    Throwable[] broken = {null};
    TestServer server =
        serve(
            name,
            conn ->
                new RecordingHandler() {
                  @Override
                  public void onMessage(ByteBuffer m) {
                    try {
                      if (next[0] == 0) {
                        // Stall long enough for the client to fill the ring and its queue.
                        stalled.countDown();
                        Thread.sleep(1500);
                      }
                      MixedMessages.verify(next[0]++, m);
                    } catch (Throwable t) {
                      if (broken[0] == null) {
                        broken[0] = t;
                      }
                      throw new IllegalStateException(t);
                    }
                  }
                });
    PeerProcess peer =
        track(PeerProcess.start(ShmTestPeer.class, "flood", "shm://" + name, Long.toString(count), "ringSize=16k",
            "writeHighWaterMark=64k"));
    TestServer.Accepted s = server.awaitAccepted(PEER_START);
    assertTrue(stalled.await(PEER_START.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
    assertEquals("" + count, peer.awaitLine("DONE", Duration.ofSeconds(60)));
    s.handler().awaitClosedInOrder(TIMEOUT);
    if (broken[0] != null) {
      throw new AssertionError(broken[0]);
    }
    assertEquals(count, next[0], "every message arrived, in order");
  }
}
