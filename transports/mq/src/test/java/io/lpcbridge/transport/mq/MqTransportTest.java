package io.lpcbridge.transport.mq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.ConformancePeer;
import io.lpcbridge.transport.testkit.NumberedMessage;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.BindException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Queues, crashes, limits and hostile input on mq:///name; the suite covers the contract. */
class MqTransportTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PROMPTLY = Duration.ofSeconds(5);
  private static final AtomicInteger COUNTER = new AtomicInteger();
  private static final TransportOptions OPTIONS =
      TransportOptions.defaults().with("maxMessageSize", "1m").with("queueDepth", 4).with("messageSize", 2048);

  private final Deque<AutoCloseable> resources = new ArrayDeque<>();
  private final String prefix = "lpcbridge-mqtest-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  private Target target(String suffix) {
    return Target.parse("mq:///" + prefix + suffix);
  }

  private TestServer serve(Target t) throws IOException {
    TestServer s = new TestServer(Transports.listen(t, OPTIONS), RecordingHandler::echoing);
    resources.push(s);
    return s;
  }

  private Connection connect(Target t, RecordingHandler h) throws IOException {
    Connection c = Transports.connect(t, OPTIONS);
    resources.push(c::close);
    c.start(h);
    return c;
  }

  /** The queues of this test, where the machine lets us list them. */
  private Optional<List<String>> queues() throws Exception {
    return QueueListing.startingWith(prefix);
  }

  private static boolean exists(String queue) throws NativeException {
    try {
      Fds.close(MessageQueues.open(queue, Fds.O_RDONLY | Fds.O_NONBLOCK, 0, 0, 0));
      return true;
    } catch (NativeException e) {
      if (e.errno() == Errno.ENOENT) {
        return false;
      }
      throw e;
    }
  }

  private Process peer(String mode, Target t) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
        "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        ConformancePeer.class.getName(), mode, t.toString()));
    OPTIONS.asMap().forEach((k, v) -> cmd.add(k + "=" + v));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    resources.push(p::destroyForcibly);
    return p;
  }

  private static String awaitLine(Process p, String word) throws IOException {
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    for (String l; (l = r.readLine()) != null; ) {
      if (l.startsWith(word)) {
        return l.substring(word.length()).trim();
      }
    }
    throw new AssertionError("peer exited without printing " + word);
  }

  @Test
  void aConnectionLeavesOnlyTheRequestQueueAndClosingTheListenerRemovesIt() throws Exception {
    Target t = target("a");
    TestServer server = serve(t);
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(t, h);
    server.awaitAccepted(TIMEOUT);
    byte[] big = NumberedMessage.pattern(100_000);
    assertTrue(c.send(ByteBuffer.wrap(big)));
    assertArrayEquals(big, h.take(TIMEOUT), "a message of 49 fragments");
    queues().ifPresent(q -> assertEquals(List.of(prefix + "a"), q));
    assertTrue(exists("/" + prefix + "a"));
    server.close();
    assertTrue(!exists("/" + prefix + "a"));
  }

  @Test
  void aServerKilledMidStreamIsSeenPromptlyAndItsClientRemovesItsQueue() throws Exception {
    Target t = target("b");
    Process server = peer("listen", t);
    Target bound = Target.parse(awaitLine(server, ConformancePeer.LISTENING));
    RecordingHandler h = new RecordingHandler();
    connect(bound, h);
    for (int i = 0; i < 5; i++) {
      assertEquals(i, NumberedMessage.decode(h.take(TIMEOUT)).sequence());
    }
    server.destroyForcibly().waitFor();
    Throwable cause = h.awaitClosed(PROMPTLY);
    assertTrue(cause != null && cause.getMessage().contains("exited without closing the connection"), String.valueOf(cause));
    long deadline = System.nanoTime() + PROMPTLY.toNanos();
    while (exists("/" + prefix + "b") && System.nanoTime() < deadline) {
      Thread.sleep(20); // The client cleans up on a thread of its own, just after it sees the close.
    }
    assertTrue(!exists("/" + prefix + "b"), "the dead server's request queue was removed");
    queues().ifPresent(q -> assertEquals(List.of(), q));
  }

  @Test
  void aServerStoppedBySigtermRemovesItsQueueOnTheWayOut() throws Exception {
    Process server = peer("listen", target("t"));
    awaitLine(server, ConformancePeer.LISTENING);
    assertTrue(exists("/" + prefix + "t"));
    // SIGTERM through the handle: Process.destroy() would also close the peer's stdin, which makes
    // it halt at once, skipping the shutdown hooks under test.
    server.toHandle().destroy();
    server.waitFor();
    assertTrue(!exists("/" + prefix + "t"));
  }

  @Test
  void aClientKilledMidStreamIsSeenPromptlyAndLeavesNoQueue() throws Exception {
    Target t = target("c");
    TestServer server = serve(t);
    Process client = peer("connect", server.target());
    TestServer.Accepted a = server.awaitAccepted(TIMEOUT);
    for (int i = 0; i < 5; i++) {
      assertEquals(i, NumberedMessage.decode(a.handler().take(TIMEOUT)).sequence());
    }
    client.destroyForcibly().waitFor();
    Throwable cause = a.handler().awaitClosed(PROMPTLY);
    assertTrue(cause != null && cause.getMessage().contains("exited without closing"), String.valueOf(cause));
    queues().ifPresent(q -> assertEquals(List.of(prefix + "c"), q));
  }

  @Test
  void aStaleRequestQueueIsRemovedAndALiveOneIsRefused() throws Exception {
    Target t = target("d");
    String name = "/" + prefix + "d";
    Fds.close(MessageQueues.open(name, Fds.O_CREAT | Fds.O_RDONLY, 0600, 1, 64)); // as a crashed server leaves it
    IOException stale = assertThrows(IOException.class, () -> Transports.connect(t, OPTIONS));
    assertTrue(stale.getMessage().contains("a server that crashed left it; removed"), stale.getMessage());
    assertTrue(!exists(name));
    Fds.close(MessageQueues.open(name, Fds.O_CREAT | Fds.O_RDONLY, 0600, 1, 64));
    TestServer server = serve(t);
    BindException inUse = assertThrows(BindException.class, () -> Transports.listen(t, OPTIONS));
    assertEquals("address in use: a server is already listening on " + t, inUse.getMessage());
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(server.target(), h);
    c.send(ByteBuffer.wrap(new byte[] {1}));
    assertArrayEquals(new byte[] {1}, h.take(TIMEOUT));
  }

  @Test
  void garbageOnTheRequestQueueIsDiscarded() throws Exception {
    Target t = target("e");
    TestServer server = serve(t);
    int mqd = MessageQueues.open("/" + prefix + "e", Fds.O_WRONLY | Fds.O_NONBLOCK, 0, 0, 0);
    MessageQueues.send(mqd, ByteBuffer.wrap("not a request".getBytes(StandardCharsets.US_ASCII)));
    Fds.close(mqd);
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(server.target(), h);
    c.send(ByteBuffer.wrap(new byte[] {2}));
    assertArrayEquals(new byte[] {2}, h.take(TIMEOUT));
  }

  @Test
  void anOversizedOrGarbageDatagramFromARawClientFailsOnlyItsConnection() throws Exception {
    Target t = target("f");
    TestServer server = serve(t);
    MqNames names = MqNames.of(t);
    for (byte[] datagram : List.of(
        ByteBuffer.allocate(8).put((byte) 1).put((byte) 3).putShort((short) 0).putInt(0x7fffffff).array(),
        new byte[] {77, 0, 0, 0, 0, 0, 0, 0})) {
      long id = System.nanoTime();
      int up = MessageQueues.open(names.up(id), Fds.O_CREAT | Fds.O_EXCL | Fds.O_WRONLY | Fds.O_NONBLOCK, 0600, 4, 256);
      int down = MessageQueues.open(names.down(id), Fds.O_CREAT | Fds.O_EXCL | Fds.O_RDONLY | Fds.O_NONBLOCK, 0600, 4, 256);
      int req = MessageQueues.open(names.name, Fds.O_WRONLY | Fds.O_NONBLOCK, 0, 0, 0);
      MessageQueues.send(req, MqNames.record(MqNames.REQUEST, id, (int) ProcessHandle.current().pid()));
      Fds.close(req);
      TestServer.Accepted victim = server.awaitAccepted(TIMEOUT);
      MessageQueues.send(up, ByteBuffer.wrap(datagram));
      Throwable cause = victim.handler().awaitClosed(TIMEOUT);
      assertInstanceOf(ProtocolException.class, cause);
      assertTrue(
          cause.getMessage().equals("message length 2147483647 exceeds maxMessageSize 1048576 (set the transport option maxMessageSize to raise it)")
              || cause.getMessage().equals("received a datagram of unknown type 77"),
          cause.getMessage());
      Fds.close(up);
      Fds.close(down);
    }
    queues().ifPresent(q -> assertEquals(List.of(prefix + "f"), q));
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(server.target(), h);
    c.send(ByteBuffer.wrap(new byte[] {3}));
    assertArrayEquals(new byte[] {3}, h.take(TIMEOUT), "the server still serves");
  }

  @Test
  void sizesBeyondTheSystemLimitsAreRefusedNamingTheLimit() throws Exception {
    MessageQueues.Limits limits = MessageQueues.limits();
    IllegalArgumentException depth =
        assertThrows(IllegalArgumentException.class, () -> Transports.connect(target("g"), OPTIONS.with("queueDepth", limits.msgMax() + 1)));
    assertTrue(depth.getMessage().contains("/proc/sys/fs/mqueue/msg_max"), depth.getMessage());
    IllegalArgumentException size =
        assertThrows(IllegalArgumentException.class, () -> Transports.connect(target("g"), OPTIONS.with("messageSize", limits.msgSizeMax() + 1)));
    assertTrue(size.getMessage().contains("/proc/sys/fs/mqueue/msgsize_max"), size.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Transports.connect(Target.parse("mq:///a/b"), OPTIONS));
  }

  @Test
  void aSpentPerUserBudgetIsExplained() throws Exception {
    MessageQueues.Limits limits = MessageQueues.limits();
    Target t = target("h");
    serve(t);
    TransportOptions big = OPTIONS.with("queueDepth", limits.msgMax()).with("messageSize", limits.msgSizeMax());
    IOException spent = null;
    for (int i = 0; i < 64 && spent == null; i++) {
      try {
        Connection c = Transports.connect(t, big);
        resources.push(c::close);
        c.start(new RecordingHandler());
      } catch (IOException e) {
        spent = e;
      }
    }
    if (limits.userBytes() < 0) {
      return; // Unlimited here: nothing to run out of.
    }
    assertTrue(spent != null && spent.getMessage().contains("RLIMIT_MSGQUEUE"), String.valueOf(spent));
    closeAll();
    queues().ifPresent(q -> assertEquals(List.of(), q));
  }
}
