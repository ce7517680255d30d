package io.lpcbridge.transport.unix;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import io.lpcbridge.transport.testkit.TestServer.Accepted;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/** What the conformance suite does not cover: files, modes, addresses and hostile peers. */
class UnixTransportTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final AtomicInteger COUNTER = new AtomicInteger();

  @TempDir Path dir;

  private final TransportProvider provider = new UnixTransportProvider();
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  @Test
  void isFoundByItsSchemeAndReportsItselfAvailable() throws Exception {
    TransportProvider p = Transports.forTarget(Target.parse("unix:///x"));
    assertInstanceOf(UnixTransportProvider.class, p);
    assertEquals("unix", p.name());
    assertTrue(p.isAvailable(), () -> "unavailable: " + p.unavailabilityCause());
    assertTrue(p.unavailabilityCause().isEmpty());
    assertEquals(java.util.Set.of(Capability.PEER_CREDENTIALS, Capability.INLINE_RECEIVE), p.capabilities());
  }

  @Test
  void socketFileIsMode0600AfterBind() throws Exception {
    Path path = dir.resolve("a.sock");
    Listener l = listen(target(path), TransportOptions.defaults());
    assertEquals("unix://" + path, l.localTarget().toString());
    assertEquals(0600, mode(path));
  }

  @Test
  void modeOptionSetsTheSocketFilesMode() throws Exception {
    Path path = dir.resolve("b.sock");
    listen(target(path), TransportOptions.defaults().with("mode", "0660"));
    assertEquals(0660, mode(path));
  }

  @Test
  void malformedOrUnknownOptionsAreRefusedBeforeBinding() {
    Path path = dir.resolve("c.sock");
    IllegalArgumentException bad =
        assertThrows(
            IllegalArgumentException.class,
            () -> listen(target(path), TransportOptions.defaults().with("mode", "rw-rw----")));
    assertTrue(bad.getMessage().contains("mode"), bad.getMessage());
    IllegalArgumentException unknown =
        assertThrows(
            IllegalArgumentException.class,
            () -> listen(target(path), TransportOptions.defaults().with("mdoe", "0600")));
    assertTrue(unknown.getMessage().contains("known options"), unknown.getMessage());
    assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aStaleSocketFileIsRemovedAndTheAddressBoundAgain() throws Exception {
    Path path = dir.resolve("stale.sock");
    AFUNIXServerSocketChannel dead = AFUNIXServerSocketChannel.open();
    dead.setDeleteOnClose(false);
    dead.bind(AFUNIXSocketAddress.of(path));
    dead.close();
    assertTrue(SocketFiles.isSocket(path), "a stale socket file is left behind");

    TestServer server = serve(target(path));
    assertEchoes(server.target());
  }

  @Test
  void aLiveAddressIsRefusedAndItsServerKeepsServing() throws Exception {
    Path path = dir.resolve("live.sock");
    TestServer server = serve(target(path));
    BindException e = assertThrows(BindException.class, () -> listen(target(path), TransportOptions.defaults()));
    assertEquals("address in use: a server is already listening on " + path, e.getMessage());
    assertEchoes(server.target());
  }

  @Test
  void aLiveAbstractNameIsRefused() throws Exception {
    Target target = abstractTarget();
    TestServer server = serve(target);
    BindException e = assertThrows(BindException.class, () -> listen(target, TransportOptions.defaults()));
    assertEquals("address in use: a server is already listening on " + target.path(), e.getMessage());
    assertEchoes(server.target());
  }

  @Test
  void aFileThatIsNotASocketIsNeverReplaced() throws Exception {
    Path path = dir.resolve("precious.txt");
    Files.writeString(path, "keep me");
    IOException e = assertThrows(IOException.class, () -> listen(target(path), TransportOptions.defaults()));
    assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
    assertEquals("keep me", Files.readString(path));
  }

  @Test
  void connectingToAMissingFileSaysNoServerListensThere() {
    Path path = dir.resolve("nobody.sock");
    ConnectException e = assertThrows(ConnectException.class, () -> connect(target(path)));
    assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("no server listens there"), e.getMessage());
  }

  @Test
  void connectingToAStaleFileSaysConnectionRefused() throws Exception {
    Path path = dir.resolve("stale2.sock");
    AFUNIXServerSocketChannel dead = AFUNIXServerSocketChannel.open();
    dead.setDeleteOnClose(false);
    dead.bind(AFUNIXSocketAddress.of(path));
    dead.close();
    ConnectException e = assertThrows(ConnectException.class, () -> connect(target(path)));
    assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
  }

  @Test
  void connectingToAnUnboundAbstractNameSaysNoServerListensOnIt() {
    Target target = abstractTarget();
    ConnectException e = assertThrows(ConnectException.class, () -> connect(target));
    assertTrue(e.getMessage().startsWith("cannot connect to " + target + ": no server listens"), e.getMessage());
  }

  @Test
  void closeRemovesTheSocketFile() throws Exception {
    Path path = dir.resolve("gone.sock");
    Listener l = listen(target(path), TransportOptions.defaults());
    l.start(c -> c.close());
    assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
    l.close();
    assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS));
    l.close();
  }

  @Test
  void closeLeavesASuccessorsSocketFileAlone() throws Exception {
    Path path = dir.resolve("successor.sock");
    Listener first = listen(target(path), TransportOptions.defaults());
    Files.delete(path);
    TestServer second = serve(target(path));
    first.close();
    assertTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the second listener's file is still there");
    assertEchoes(second.target());
  }

  @Test
  void anAbstractNameCreatesNoFile() throws Exception {
    Target target = abstractTarget();
    TestServer server = serve(target);
    assertEquals(target, server.target());
    assertEchoes(target);
  }

  @ParameterizedTest(name = "length 0x{0}")
  @ValueSource(strings = {"ffffffff", "7fffffff", "00400001"})
  void aPeerAnnouncingAnOversizedFrameFailsOnlyItsOwnConnection(String lengthHex) throws Exception {
    Path path = dir.resolve("hostile.sock");
    TransportOptions options = TransportOptions.defaults().with("maxMessageSize", "4m");
    TestServer server = serve(target(path), options);
    try (AFUNIXSocketChannel raw = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path))) {
      Accepted victim = server.awaitAccepted(TIMEOUT);
      raw.write(ByteBuffer.allocate(4).putInt(Integer.parseUnsignedInt(lengthHex, 16)).flip());
      Throwable cause = victim.handler().awaitClosed(TIMEOUT);
      assertInstanceOf(ProtocolException.class, cause);
      assertTrue(
          cause.getMessage().startsWith("frame length " + Integer.parseUnsignedInt(lengthHex, 16) + " exceeds maxMessageSize 4194304")
              || cause.getMessage().startsWith("frame length " + Long.parseLong(lengthHex, 16) + " exceeds maxMessageSize 4194304"),
          cause.getMessage());
      assertEquals(-1, raw.read(ByteBuffer.allocate(16)), "the server closed the hostile connection");
    }
    assertEchoes(server.target(), options);
  }

  @Test
  void garbageThenEndOfStreamFailsOnlyThatConnection() throws Exception {
    Path path = dir.resolve("garbage.sock");
    TestServer server = serve(target(path));
    try (AFUNIXSocketChannel raw = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path))) {
      Accepted victim = server.awaitAccepted(TIMEOUT);
      raw.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 9, 'h', 'a', 'l', 'f'}));
      raw.shutdownOutput();
      Throwable cause = victim.handler().awaitClosed(TIMEOUT);
      assertInstanceOf(java.io.EOFException.class, cause);
      assertEquals("peer closed the connection in the middle of a frame: 4 of 9 payload bytes arrived", cause.getMessage());
    }
    assertEchoes(server.target());
  }

  @Test
  void bothEndsKnowThePeersCredentials() throws Exception {
    TestServer server = serve(target(dir.resolve("creds.sock")));
    Connection c = connect(server.target());
    c.start(new RecordingHandler());
    Accepted s = server.awaitAccepted(TIMEOUT);
    long pid = ProcessHandle.current().pid();
    long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    for (Connection end : new Connection[] {c, s.connection()}) {
      PeerCredentials pc = end.peerCredentials().orElseThrow();
      assertEquals(pid, pc.pid());
      assertEquals(uid, pc.uid());
      assertTrue(end.capabilities().contains(Capability.PEER_CREDENTIALS));
    }
    assertTrue(s.connection().remoteAddress().contains("pid " + pid), s.connection().remoteAddress());
    assertEquals(server.target().toString(), c.remoteAddress());
  }

  private void assertEchoes(Target target) throws Exception {
    assertEchoes(target, TransportOptions.defaults());
  }

  private void assertEchoes(Target target, TransportOptions options) throws Exception {
    RecordingHandler h = new RecordingHandler();
    Connection c = track(provider.connect(target, options));
    c.start(h);
    byte[] ping = ("ping " + COUNTER.incrementAndGet()).getBytes(StandardCharsets.UTF_8);
    assertTrue(c.send(ByteBuffer.wrap(ping)));
    assertArrayEquals(ping, h.take(TIMEOUT));
    c.close();
    h.awaitClosedInOrder(TIMEOUT);
    h.assertContractKept();
  }

  private TestServer serve(Target target) throws IOException {
    return serve(target, TransportOptions.defaults());
  }

  private TestServer serve(Target target, TransportOptions options) throws IOException {
    return track(new TestServer(listen(target, options), RecordingHandler::echoing));
  }

  private Listener listen(Target target, TransportOptions options) throws IOException {
    return track(provider.listen(target, options));
  }

  private Connection connect(Target target) throws IOException {
    Connection c = provider.connect(target, TransportOptions.defaults());
    resources.push(c::close);
    return c;
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.push(resource);
    return resource;
  }

  private Connection track(Connection c) {
    resources.push(c::close);
    return c;
  }

  private static Target target(Path path) {
    return Target.parse("unix://" + path);
  }

  private static Target abstractTarget() {
    return Target.parse("unix:@lpcbridge-test-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet());
  }

  private static int mode(Path path) throws IOException {
    return ((Number) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue() & 0777;
  }
}
