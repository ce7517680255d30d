package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.IOException;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/** The provider's surface: discovery, targets, options, the rendezvous directory and socket. */
class ShmTransportProviderTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger NAMES = new AtomicInteger();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  @TempDir Path tmp;

  @AfterEach
  void closeResources() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  private static String freshName() {
    return "provider-" + ProcessHandle.current().pid() + "-" + NAMES.incrementAndGet();
  }

  private static TransportProvider provider() throws IOException {
    return Transports.forTarget(Target.parse("shm://x"));
  }

  private <T extends AutoCloseable> T track(T r) {
    resources.push(r);
    return r;
  }

  @Test
  void isFoundByItsSchemeAndDescribesItself() throws Exception {
    TransportProvider p = provider();
    assertInstanceOf(ShmTransportProvider.class, p);
    assertEquals("shm", p.name());
    assertEquals(Set.of("shm"), p.schemes());
    assertTrue(p.isAvailable(), () -> "unavailable: " + p.unavailabilityCause());
    assertEquals(Set.of(Capability.MESSAGE_BOUNDARIES, Capability.ZERO_COPY, Capability.PEER_CREDENTIALS, Capability.INLINE_RECEIVE), p.capabilities());
    assertTrue(p.description().contains("idle=adaptive by default"), p.description());
    assertEquals(Set.of("idle", "spinTime", "ringSize", "dir", "allowUids"), p.supportedOptions());
    assertEquals(java.util.List.of("adaptive", "block", "yield", "spin"), p.optionChoices("idle"));
    assertEquals(java.util.List.of(), p.optionChoices("ringSize"));
  }

  @Test
  void loopbackTargetsAreFreshNamesThatCanBeServed() throws Exception {
    TransportProvider p = provider();
    List<Target> a = p.loopbackTargets(tmp);
    List<Target> b = p.loopbackTargets(tmp);
    assertEquals(1, a.size());
    assertNotEquals(a, b);
    assertTrue(a.getFirst().toString().startsWith("shm://bridge-" + ProcessHandle.current().pid() + "-"), a.toString());
    TestServer server = track(new TestServer(p.listen(a.getFirst(), TransportOptions.defaults()), RecordingHandler::echoing));
    assertEquals(a.getFirst(), server.target());
    RecordingHandler h = new RecordingHandler();
    Connection c = trackConnection(p.connect(a.getFirst(), TransportOptions.defaults()));
    c.start(h);
    c.send(ByteBuffer.wrap(new byte[] {7}));
    assertArrayEquals(new byte[] {7}, h.take(TIMEOUT));
  }

  private Connection trackConnection(Connection c) {
    resources.push(c::close);
    return c;
  }

  @ParameterizedTest
  @ValueSource(strings = {"shm:name", "shm:///name", "shm://", "shm://a/b", "shm://.hidden", "shm://-x", "shm://a b",
      "shm://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
  void malformedTargetsSayHowToWriteOne(String text) throws Exception {
    Target t = Target.parse(text);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> provider().connect(t, TransportOptions.defaults()));
    assertTrue(e.getMessage().contains("write it as shm://NAME"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> provider().listen(t, TransportOptions.defaults()));
  }

  @Test
  void badOptionsAreRefusedNamingOptionAndValue() throws Exception {
    Target t = Target.parse("shm://" + freshName());
    record Case(String key, String value, String expected) {}
    for (Case c : List.of(
        new Case("idle", "fast", "idle='fast' is not an idle strategy; use one of adaptive, block, yield, spin"),
        new Case("ringSize", "3000", "ringSize=3000 is not a power of two between 4096 and 1073741824"),
        new Case("ringSize", "2k", "is not a power of two between 4096"),
        new Case("spinTime", "2s", "spinTime=2s must be between 0 and 1s"),
        new Case("spinTime", "soon", "spinTime='soon' is not a duration"),
        new Case("allowUids", "1000,bob", "'bob' is not a numeric user id"),
        new Case("dir", "relative/dir", "dir='relative/dir' must be an absolute directory path"),
        new Case("colour", "blue", "unknown option 'colour' for transport shm; known options: [allowUids, connectTimeout,"))) {
      TransportOptions o = TransportOptions.defaults().with(c.key(), c.value());
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> provider().listen(t, o), c.toString());
      assertTrue(e.getMessage().contains(c.expected()), c + ": " + e.getMessage());
    }
  }

  @Test
  void connectingWhereNobodyListensNamesTheTargetAndTheSocket() throws Exception {
    Target t = Target.parse("shm://" + freshName());
    IOException e = assertThrows(IOException.class, () -> provider().connect(t, TransportOptions.defaults()));
    assertTrue(e.getMessage().startsWith("cannot connect to " + t + ": no server listens: there is no rendezvous socket at /tmp/lpcbridge-shm-"), e.getMessage());
  }

  @Test
  void aSecondListenerOnALiveNameIsRefusedAndAStaleSocketIsReplaced() throws Exception {
    String name = freshName();
    Path dir = tmp.resolve("rv");
    TransportOptions o = TransportOptions.defaults().with("dir", dir.toString());
    Target t = Target.parse("shm://" + name);
    Listener first = track(provider().listen(t, o));
    BindException e = assertThrows(BindException.class, () -> provider().listen(t, o));
    assertTrue(e.getMessage().contains("address in use"), e.getMessage());
    first.close();
    assertFalse(Files.exists(dir.resolve(name + ".sock")), "close() removes the socket");

    // A socket file nobody listens on, as a killed server leaves it.
    try (AFUNIXServerSocketChannel dead = AFUNIXServerSocketChannel.open()) {
      dead.setDeleteOnClose(false);
      dead.bind(AFUNIXSocketAddress.of(dir.resolve(name + ".sock")));
    }
    assertTrue(Files.exists(dir.resolve(name + ".sock")));
    TestServer server = track(new TestServer(provider().listen(t, o), RecordingHandler::echoing));
    RecordingHandler h = new RecordingHandler();
    Connection c = trackConnection(provider().connect(t, o));
    c.start(h);
    c.send(ByteBuffer.wrap(new byte[] {42}));
    assertArrayEquals(new byte[] {42}, h.take(TIMEOUT));
    assertEquals(0700, mode(dir), "the rendezvous directory is private");
    assertEquals(0600, mode(dir.resolve(name + ".sock")), "and so is the socket");
    server.close();
  }

  @Test
  void staleSocketsOfKilledServersAreSweptButYoungOnesAndOtherFilesAreLeft() throws Exception {
    Path dir = tmp.resolve("sweep");
    TransportOptions o = TransportOptions.defaults().with("dir", dir.toString());
    Listener first = track(provider().listen(Target.parse("shm://" + freshName()), o));
    Path old = dir.resolve("old.sock");
    Path young = dir.resolve("young.sock");
    for (Path p : List.of(old, young)) {
      try (AFUNIXServerSocketChannel dead = AFUNIXServerSocketChannel.open()) {
        dead.setDeleteOnClose(false);
        dead.bind(AFUNIXSocketAddress.of(p));
      }
    }
    Files.setLastModifiedTime(old, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    Path notASocket = Files.writeString(dir.resolve("note.sock"), "not a socket");
    Files.setLastModifiedTime(notASocket, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    track(provider().listen(Target.parse("shm://" + freshName()), o));
    assertFalse(Files.exists(old), "a stale socket older than " + Rendezvous.STALE_AGE_MILLIS + " ms is removed");
    assertTrue(Files.exists(young), "a young one may belong to a server between bind and listen");
    assertTrue(Files.exists(notASocket), "only sockets are touched");
    assertTrue(Files.exists(((ShmListener) first).socketPath()), "a live socket stays");
  }

  @Test
  void aRendezvousDirectoryOthersCouldWriteInIsRefused() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("open"));
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
    TransportOptions o = TransportOptions.defaults().with("dir", dir.toString());
    IOException e = assertThrows(IOException.class, () -> provider().listen(Target.parse("shm://" + freshName()), o));
    assertTrue(e.getMessage().contains("has mode 0777: others may write in it"), e.getMessage());

    Path link = Files.createSymbolicLink(tmp.resolve("link"), Files.createDirectory(tmp.resolve("real")));
    IOException l = assertThrows(IOException.class,
        () -> provider().listen(Target.parse("shm://" + freshName()), TransportOptions.defaults().with("dir", link.toString())));
    assertTrue(l.getMessage().contains("is not a directory"), l.getMessage());
  }

  @Test
  void aRendezvousDirectoryOfAnotherUserIsRefused() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("theirs"));
    org.junit.jupiter.api.Assumptions.assumeTrue(Rendezvous.ownUid() == 0, "needs root to give a directory away");
    Files.setAttribute(dir, "unix:uid", 65534);
    IOException e = assertThrows(IOException.class,
        () -> provider().listen(Target.parse("shm://" + freshName()), TransportOptions.defaults().with("dir", dir.toString())));
    assertTrue(e.getMessage().contains("belongs to uid 65534, not to this process's uid 0"), e.getMessage());
  }

  @Test
  void aClientsRingSizeIsHonouredAndMessagesOverItAreFragmented() throws Exception {
    String name = freshName();
    TestServer server = track(new TestServer(provider().listen(Target.parse("shm://" + name), TransportOptions.defaults()),
        RecordingHandler::echoing));
    RecordingHandler h = new RecordingHandler();
    ShmConnection c = (ShmConnection) trackConnection(provider().connect(Target.parse("shm://" + name),
        TransportOptions.defaults().with("ringSize", "8k")));
    c.start(h);
    assertEquals(8192, c.mapping().capacity());
    TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
    assertEquals(8192, ((ShmConnection) s.connection()).mapping().capacity());
    byte[] big = io.lpcbridge.transport.testkit.NumberedMessage.pattern(100_000);
    c.send(ByteBuffer.wrap(big));
    assertArrayEquals(big, h.take(TIMEOUT));
  }

  @Test
  void aMessageOverTheReceiversMaxMessageSizeFailsTheConnectionNamingBothSizes() throws Exception {
    String name = freshName();
    TestServer server = track(new TestServer(
        provider().listen(Target.parse("shm://" + name), TransportOptions.defaults().with("maxMessageSize", "64k")),
        conn -> new RecordingHandler()));
    RecordingHandler h = new RecordingHandler();
    Connection c = trackConnection(provider().connect(Target.parse("shm://" + name), TransportOptions.defaults()));
    c.start(h);
    TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
    c.send(ByteBuffer.allocate(100_000));
    Throwable cause = s.handler().awaitClosed(TIMEOUT);
    assertTrue(cause.getMessage().contains("the peer sent a message of 100000 bytes, over this side's maxMessageSize 65536"),
        cause.getMessage());
    h.awaitClosed(TIMEOUT);
  }

  @Test
  void closingBeforeStartSaysGoodbyeAndStartThenReportsTheClose() throws Exception {
    String name = freshName();
    TestServer server = track(new TestServer(provider().listen(Target.parse("shm://" + name), TransportOptions.defaults()),
        conn -> new RecordingHandler()));
    Connection c = provider().connect(Target.parse("shm://" + name), TransportOptions.defaults());
    TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
    c.close();
    assertFalse(c.isOpen());
    s.handler().awaitClosedInOrder(TIMEOUT);
    RecordingHandler late = new RecordingHandler();
    c.start(late);
    late.awaitClosedInOrder(TIMEOUT);
    assertFalse(c.send(ByteBuffer.allocate(1)));
  }

  @Test
  void closedConnectionsLeaveNoThreadsBehind() throws Exception {
    String name = freshName();
    TestServer server = track(new TestServer(provider().listen(Target.parse("shm://" + name), TransportOptions.defaults()),
        RecordingHandler::echoing));
    for (int i = 0; i < 10; i++) {
      RecordingHandler h = new RecordingHandler();
      Connection c = provider().connect(Target.parse("shm://" + name), TransportOptions.defaults());
      c.start(h);
      c.send(ByteBuffer.wrap("x".getBytes(StandardCharsets.UTF_8)));
      h.take(TIMEOUT);
      c.close();
      h.awaitClosedInOrder(TIMEOUT);
      server.awaitAccepted(TIMEOUT).handler().awaitClosedInOrder(TIMEOUT);
    }
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    List<String> left;
    do {
      Thread.sleep(20);
      left = Thread.getAllStackTraces().keySet().stream()
          .map(Thread::getName)
          .filter(n -> n.contains("shm://" + name) && (n.startsWith("shm reader") || n.startsWith("shm watcher")))
          .toList();
    } while (!left.isEmpty() && System.nanoTime() < deadline);
    assertEquals(List.of(), left, "reader and watcher threads end with their connection");
    assertEquals(List.of(), SegmentTraces.mappings(name), "and every segment is unmapped");
  }

  private static int mode(Path p) throws IOException {
    return ((Number) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)).intValue() & 0777;
  }
}
