package io.lpcbridge.transport.fifo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.Fifos;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files, crashes and hostile input on fifo:///dir; the suite covers the connection contract. */
class FifoTransportTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PROMPTLY = Duration.ofSeconds(5);
  private static final TransportOptions OPTIONS = TransportOptions.defaults().with("maxMessageSize", "1m").with("connectTimeout", "10s");

  @TempDir Path tmp;
  private final Deque<AutoCloseable> resources = new ArrayDeque<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      r.close();
    }
  }

  private Target target(String name) {
    return Target.parse("fifo://" + tmp.resolve(name));
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

  private static List<String> files(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  private Process peer(String mode, Target t) throws IOException {
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                ConformancePeer.class.getName(), mode, t.toString())
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
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
  void requestFifoIsOwnerOnlyAndConnectionFifosAreGoneOnceConnected() throws Exception {
    Target t = target("a");
    TestServer server = serve(t);
    assertEquals(0600, Fds.status(tmp.resolve("a").resolve(FifoDirectory.REQUESTS)).permissions());
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(t, h);
    server.awaitAccepted(TIMEOUT);
    assertEquals(List.of(FifoDirectory.REQUESTS), files(tmp.resolve("a")), "only the request FIFO once connected");
    c.send(ByteBuffer.wrap(new byte[] {1, 2, 3}));
    assertArrayEquals(new byte[] {1, 2, 3}, h.take(TIMEOUT));
    server.close();
    assertTrue(Files.notExists(tmp.resolve("a")), "closing the listener removes the request FIFO, and the directory it made");
  }

  @Test
  void aServerKilledMidStreamIsSeenPromptlyAndItsClientRemovesWhatItLeft() throws Exception {
    Target t = target("b");
    Process server = peer("listen", t);
    Target bound = Target.parse(awaitLine(server, ConformancePeer.LISTENING));
    RecordingHandler h = new RecordingHandler();
    connect(bound, h);
    for (int i = 0; i < 5; i++) {
      assertEquals(i, NumberedMessage.decode(h.take(TIMEOUT)).sequence());
    }
    server.destroyForcibly().waitFor();
    h.awaitClosed(PROMPTLY);
    awaitEmpty(tmp.resolve("b"));
    IOException e = assertThrows(IOException.class, () -> Transports.connect(bound, OPTIONS));
    assertTrue(e.getMessage().contains("there is no request FIFO"), e.getMessage());
  }

  @Test
  void aServerStoppedBySigtermRemovesItsFifosOnTheWayOut() throws Exception {
    Process server = peer("listen", target("t"));
    awaitLine(server, ConformancePeer.LISTENING);
    // SIGTERM through the handle: Process.destroy() would also close the peer's stdin, which makes
    // it halt at once, skipping the shutdown hooks under test.
    server.toHandle().destroy();
    server.waitFor();
    assertTrue(Files.notExists(tmp.resolve("t")), "the request FIFO and the directory the server made are gone");
  }

  /** The client cleans up on a thread of its own, just after it sees the close. */
  private static void awaitEmpty(Path dir) throws Exception {
    long deadline = System.nanoTime() + PROMPTLY.toNanos();
    while (!files(dir).isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(List.of(), files(dir), "no FIFO left behind");
  }

  @Test
  void aClientKilledMidStreamIsSeenPromptlyAndLeavesNothingBehind() throws Exception {
    Target t = target("c");
    TestServer server = serve(t);
    Process client = peer("connect", server.target());
    TestServer.Accepted a = server.awaitAccepted(TIMEOUT);
    for (int i = 0; i < 5; i++) {
      assertEquals(i, NumberedMessage.decode(a.handler().take(TIMEOUT)).sequence());
    }
    client.destroyForcibly().waitFor();
    a.handler().awaitClosed(PROMPTLY);
    assertEquals(List.of(FifoDirectory.REQUESTS), files(tmp.resolve("c")));
  }

  @Test
  void aStaleRequestFifoIsReplacedByTheNextServerAndALiveOneIsNot() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("d"));
    Fifos.mkfifo(dir.resolve(FifoDirectory.REQUESTS), 0600); // as a crashed server leaves it
    Fifos.mkfifo(dir.resolve("c-00000000000000aa.up"), 0600);
    Target t = target("d");
    IOException stale = assertThrows(IOException.class, () -> Transports.connect(t, OPTIONS));
    assertTrue(stale.getMessage().contains("no server reads its request FIFO") && stale.getMessage().contains("removed"), stale.getMessage());
    assertEquals(List.of(), files(dir), "the client removed the dead server's FIFOs");
    Fifos.mkfifo(dir.resolve(FifoDirectory.REQUESTS), 0600);
    TestServer server = serve(t);
    BindException inUse = assertThrows(BindException.class, () -> Transports.listen(t, OPTIONS));
    assertEquals("address in use: a server is already listening on " + t, inUse.getMessage());
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(server.target(), h);
    c.send(ByteBuffer.wrap(new byte[] {7}));
    assertArrayEquals(new byte[] {7}, h.take(TIMEOUT));
  }

  @Test
  void aFileInTheWayIsNeverRemoved() throws Exception {
    Path dir = Files.createDirectory(tmp.resolve("e"));
    Files.writeString(dir.resolve(FifoDirectory.REQUESTS), "keep me");
    IOException e = assertThrows(IOException.class, () -> Transports.listen(target("e"), OPTIONS));
    assertTrue(e.getMessage().contains("is in the way and is not a FIFO"), e.getMessage());
    assertEquals("keep me", Files.readString(dir.resolve(FifoDirectory.REQUESTS)));
  }

  @Test
  void garbageOnTheRequestFifoIsDiscardedAndTheServerKeepsServing() throws Exception {
    Target t = target("g");
    TestServer server = serve(t);
    int fd = Fds.open(tmp.resolve("g").resolve(FifoDirectory.REQUESTS), Fds.O_WRONLY | Fds.O_NONBLOCK, 0);
    Fds.write(fd, ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: x\r\n\r\n0123456789abcdef".getBytes(StandardCharsets.US_ASCII)));
    Fds.close(fd);
    Thread.sleep(200); // Let the listener read the garbage first; the assertion below does not depend on it.
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(server.target(), h);
    c.send(ByteBuffer.wrap(new byte[] {9}));
    assertArrayEquals(new byte[] {9}, h.take(TIMEOUT));
  }

  @Test
  void anOversizedFrameFromARawClientFailsOnlyItsConnection() throws Exception {
    Target t = target("h");
    TestServer server = serve(t);
    Path dir = tmp.resolve("h");
    FifoDirectory d = FifoDirectory.of(t);
    long id = 0x1234L;
    Fifos.mkfifo(d.up(id), 0600);
    Fifos.mkfifo(d.down(id), 0600);
    int in = Fds.open(d.down(id), Fds.O_RDONLY | Fds.O_NONBLOCK, 0);
    int holder = Fds.open(d.up(id), Fds.O_RDONLY | Fds.O_NONBLOCK, 0);
    int out = Fds.open(d.up(id), Fds.O_WRONLY | Fds.O_NONBLOCK, 0);
    int req = Fds.open(d.requests(), Fds.O_WRONLY | Fds.O_NONBLOCK, 0);
    Fds.write(req, FifoDirectory.request(id, 1));
    Fds.close(req);
    TestServer.Accepted victim = server.awaitAccepted(TIMEOUT);
    Fds.close(holder);
    Fds.write(out, ByteBuffer.allocate(4).putInt(0x7fffffff).flip());
    Throwable cause = victim.handler().awaitClosed(TIMEOUT);
    assertInstanceOf(ProtocolException.class, cause);
    assertTrue(cause.getMessage().startsWith("frame length 2147483647 exceeds maxMessageSize 1048576"), cause.getMessage());
    Fds.close(out);
    Fds.close(in);
    assertEquals(List.of(FifoDirectory.REQUESTS), files(dir));
    RecordingHandler h = new RecordingHandler();
    Connection c = connect(server.target(), h);
    c.send(ByteBuffer.wrap(new byte[] {5}));
    assertArrayEquals(new byte[] {5}, h.take(TIMEOUT), "the server still serves");
  }

  @Test
  void targetsAndOptionsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> Transports.listen(Target.parse("fifo:@x"), OPTIONS));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Transports.listen(target("x"), OPTIONS.with("mode", "0600")));
    assertTrue(e.getMessage().contains("known options"), e.getMessage());
  }
}
