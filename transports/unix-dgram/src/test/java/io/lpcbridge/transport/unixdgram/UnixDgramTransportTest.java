package io.lpcbridge.transport.unixdgram;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/** Files, restarts, sizes and hostile input on unix+dgram; the suite covers the contract. */
class UnixDgramTransportTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PROMPTLY = Duration.ofSeconds(5);
  private static final TransportOptions OPTIONS = TransportOptions.defaults().with("maxMessageSize", "1m");

  @TempDir Path dir;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  private Target target(String name) {
    return Target.parse("unix+dgram://" + dir.resolve(name));
  }

  private TestServer serve(Target t, TransportOptions o) throws IOException {
    TestServer s = new TestServer(Transports.listen(t, o), RecordingHandler::echoing);
    resources.push(s);
    return s;
  }

  private Connection connect(Target t, TransportOptions o, RecordingHandler h) throws IOException {
    Connection c = Transports.connect(t, o);
    resources.push(c::close);
    c.start(h);
    return c;
  }

  private void assertEchoes(Target t, TransportOptions o, int size) throws Exception {
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(t, o, h);
    byte[] m = NumberedMessage.pattern(size);
    assertTrue(c.send(ByteBuffer.wrap(m)));
    assertArrayEquals(m, h.take(TIMEOUT));
    c.close();
    h.awaitClosedInOrder(TIMEOUT);
  }

  private Process listenInAnotherProcess(Target t) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
        "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
        ConformancePeer.class.getName(), "listen", t.toString()));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    resources.push(p::destroyForcibly);
    BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    for (String l; (l = r.readLine()) != null; ) {
      if (l.startsWith(ConformancePeer.LISTENING)) {
        return p;
      }
    }
    throw new AssertionError("the server process exited before listening");
  }

  @Test
  void theSocketFileIsOwnerOnlyAndRemovedOnClose() throws Exception {
    Target t = target("a.sock");
    TestServer s = serve(t, OPTIONS);
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("a.sock"))));
    assertEchoes(s.target(), OPTIONS, 10);
    s.close();
    assertFalse(Files.exists(dir.resolve("a.sock"), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aRestartedServerIsDetectedAndTheNewOneServes() throws Exception {
    Target t = target("restart.sock");
    Process first = listenInAnotherProcess(t);
    RecordingHandler h = new RecordingHandler();
    connect(t, OPTIONS, h);
    for (int i = 0; i < 5; i++) {
      assertEquals(i, NumberedMessage.decode(h.take(TIMEOUT)).sequence());
    }
    first.destroyForcibly().waitFor();
    Throwable cause = h.awaitClosed(PROMPTLY);
    assertTrue(cause != null && cause.getMessage().contains("is gone: its process exited, crashed or restarted"), String.valueOf(cause));
    long deadline = System.nanoTime() + PROMPTLY.toNanos();
    while (Files.exists(dir.resolve("restart.sock"), LinkOption.NOFOLLOW_LINKS) && System.nanoTime() < deadline) {
      Thread.sleep(20); // The client cleans up on a thread of its own, just after it sees the close.
    }
    assertFalse(Files.exists(dir.resolve("restart.sock"), LinkOption.NOFOLLOW_LINKS), "the client removed the dead server's socket file");
    listenInAnotherProcess(t);
    RecordingHandler h2 = new RecordingHandler();
    connect(t, OPTIONS, h2);
    assertEquals(0, NumberedMessage.decode(h2.take(TIMEOUT)).sequence(), "the restarted server serves");
  }

  @Test
  void aServerStoppedBySigtermRemovesItsSocketFileOnTheWayOut() throws Exception {
    Process server = listenInAnotherProcess(target("t.sock"));
    assertTrue(Files.exists(dir.resolve("t.sock"), LinkOption.NOFOLLOW_LINKS));
    // SIGTERM through the handle: Process.destroy() would also close the peer's stdin, which makes
    // it halt at once, skipping the shutdown hooks under test.
    server.toHandle().destroy();
    server.waitFor();
    assertFalse(Files.exists(dir.resolve("t.sock"), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void aStaleSocketFileIsReplacedALiveOneIsRefusedAndOtherFilesAreKept() throws Exception {
    Path stale = dir.resolve("stale.sock");
    AFUNIXDatagramChannel dead = AFUNIXDatagramChannel.open();
    dead.setDeleteOnClose(false);
    dead.bind(AFUNIXSocketAddress.of(stale));
    dead.close();
    IOException refused = assertThrows(IOException.class, () -> Transports.connect(target("stale.sock"), OPTIONS));
    assertTrue(refused.getMessage().contains("connection refused; the socket file a crashed server left was removed"), refused.getMessage());
    dead = AFUNIXDatagramChannel.open();
    dead.setDeleteOnClose(false);
    dead.bind(AFUNIXSocketAddress.of(stale));
    dead.close();
    TestServer s = serve(target("stale.sock"), OPTIONS);
    BindException inUse = assertThrows(BindException.class, () -> Transports.listen(target("stale.sock"), OPTIONS));
    assertEquals("address in use: a server is already listening on " + s.target(), inUse.getMessage());
    assertEchoes(s.target(), OPTIONS, 1);
    Files.writeString(dir.resolve("file"), "keep me");
    IOException inTheWay = assertThrows(IOException.class, () -> Transports.listen(target("file"), OPTIONS));
    assertTrue(inTheWay.getMessage().contains("not a socket is in the way"), inTheWay.getMessage());
    assertEquals("keep me", Files.readString(dir.resolve("file")));
    IOException nobody = assertThrows(IOException.class, () -> Transports.connect(target("nobody.sock"), OPTIONS));
    assertTrue(nobody.getMessage().contains("there is no socket file at"), nobody.getMessage());
  }

  @Test
  void theSidesUseTheSmallerDatagramSizeAndFragmentToIt() throws Exception {
    TestServer s = serve(target("small.sock"), OPTIONS.with("datagramSize", "1k"));
    assertEchoes(s.target(), OPTIONS, 300_000);
    assertEchoes(s.target(), OPTIONS.with("datagramSize", "2m"), 1_000_000);
  }

  @Test
  void garbageOnTheListenerIsIgnoredAndBadDatagramsFailOnlyTheirConnection() throws Exception {
    TestServer s = serve(target("g.sock"), OPTIONS);
    try (AFUNIXDatagramChannel raw = AFUNIXDatagramChannel.open()) {
      raw.send(ByteBuffer.wrap("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII)), AFUNIXSocketAddress.of(dir.resolve("g.sock")));
    }
    assertEchoes(s.target(), OPTIONS, 5);
    s.awaitAccepted(TIMEOUT);
    for (ByteBuffer bad : List.of(
        ByteBuffer.allocate(8).put((byte) 1).put((byte) 3).putShort((short) 0).putInt(0x7fffffff).flip(),
        ByteBuffer.wrap(new byte[] {1, 2, 3}))) {
      DgramAddress me = DgramSockets.freshAbstract("test");
      try (AFUNIXDatagramChannel raw = DgramSockets.bound(me, 2048)) {
        byte[] nonce = new byte[DgramHandshake.NONCE_BYTES];
        raw.send(DgramHandshake.encode(DgramHandshake.HELLO, 2048, nonce, me.describe()), AFUNIXSocketAddress.of(dir.resolve("g.sock")));
        ByteBuffer in = ByteBuffer.allocate(4096);
        raw.receive(in);
        DgramHandshake.Message welcome = DgramHandshake.decode(in.flip());
        raw.connect(DgramAddress.parse(welcome.text()).socketAddress());
        raw.write(io.lpcbridge.transport.channel.DatagramConnections.readyDatagram());
        TestServer.Accepted victim = s.awaitAccepted(TIMEOUT);
        raw.write(bad);
        Throwable cause = victim.handler().awaitClosed(TIMEOUT);
        assertInstanceOf(ProtocolException.class, cause);
        assertTrue(
            cause.getMessage().startsWith("message length 2147483647 exceeds maxMessageSize 1048576")
                || cause.getMessage().equals("received a datagram of 3 bytes, shorter than the 8-byte header"),
            cause.getMessage());
      }
    }
    assertEchoes(s.target(), OPTIONS, 5);
  }

  @Test
  void optionsAreChecked() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Transports.listen(target("o.sock"), OPTIONS.with("datagramSize", "100")))
        .getMessage().contains("datagramSize=100 is outside 1024.."));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Transports.listen(target("o.sock"), OPTIONS.with("mode", "rw")))
        .getMessage().contains("is not an octal mode"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Transports.listen(target("o.sock"), OPTIONS.with("keepAlive", "1s")))
        .getMessage().contains("known options"));
    assertFalse(Files.exists(dir.resolve("o.sock"), LinkOption.NOFOLLOW_LINKS));
  }
}
