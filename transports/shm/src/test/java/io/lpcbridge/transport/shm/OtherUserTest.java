package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A process of another user (nobody, via {@code setpriv}) dials a listener: kept out by the
 * directory's mode by default, refused by credentials when the directory is open but its uid is not
 * listed, and served when {@code allowUids} lists it. The client is a few lines of Python speaking
 * the handshake (docs/shm-ring.md), receiving the memfd with SCM_RIGHTS. Runs only as root with
 * {@code setpriv} and {@code python3} at hand; skipped otherwise, saying so.
 */
class OtherUserTest {
  private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final String NOBODY = "65534";
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private static final String CLIENT =
      """
      import array, socket, struct, sys
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.settimeout(20)
      try:
          s.connect(sys.argv[1])
      except OSError as e:
          print('CONNECT-FAILED', e.errno)
          sys.exit(0)
      s.sendall(struct.pack('>IHHIIQ', 0x4C505348, 1, 0, 0, 0, 4242))
      msg, anc, flags, addr = s.recvmsg(20, socket.CMSG_SPACE(16))
      fds = array.array('i')
      for level, kind, data in anc:
          if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
              fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
      if msg[4] == 1:
          n = struct.unpack('>H', msg[6:8])[0]
          print('REFUSED', s.recv(n).decode())
      else:
          s.sendall(struct.pack('>II', 0x4C505348, 0))
          print('ACCEPTED', len(fds))
      """;

  private Path dir;
  private TestServer server;

  @BeforeAll
  static void needsRootSetprivAndPython() throws IOException {
    boolean root = Rendezvous.ownUid() == 0;
    boolean tools = Files.isExecutable(SETPRIV) && Files.isExecutable(PYTHON);
    if (!root || !tools) {
      System.err.println("OtherUserTest: skipped: needs root (" + root + "), setpriv and python3 (" + tools + ")");
    }
    Assumptions.assumeTrue(root && tools, "needs root, setpriv and python3 to run a client as another user");
  }

  @BeforeEach
  void makeDir() throws IOException {
    // Under /tmp, which nobody can traverse (the test's own temp dir is under the build tree).
    Path parent = Files.createTempDirectory(Path.of("/tmp"), "lpcbridge-shm-other-");
    Files.setPosixFilePermissions(parent, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    dir = parent.resolve("rv");
  }

  @AfterEach
  void cleanUp() throws IOException {
    if (server != null) {
      server.close();
    }
    try (Stream<Path> files = Files.walk(dir.getParent())) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  private String listenAndDial(String allowUids) throws Exception {
    String name = "other-" + ProcessHandle.current().pid();
    TransportOptions o = TransportOptions.defaults().with("dir", dir.toString());
    if (allowUids != null) {
      o = o.with("allowUids", allowUids);
    }
    server = new TestServer(Transports.listen(Target.parse("shm://" + name), o), conn -> new RecordingHandler());
    Process p =
        new ProcessBuilder(
                SETPRIV.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                PYTHON.toString(), "-c", CLIENT, dir.resolve(name + ".sock").toString())
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the client finished");
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }

  @Test
  void byDefaultAnotherUserCannotEvenReachTheSocket() throws Exception {
    assertEquals("CONNECT-FAILED 13", listenAndDial(null), "EACCES: the directory is 0700");
  }

  @Test
  void anOpenedListenerRefusesAUserItDoesNotList() throws Exception {
    String out = listenAndDial("12345");
    assertTrue(out.startsWith("REFUSED refused by shm://"), out);
    assertTrue(out.contains("client pid") && out.contains("runs as uid 65534"), out);
  }

  @Test
  void allowUidsAdmitsTheListedUserWhoGetsTheSegment() throws Exception {
    assertEquals("ACCEPTED 1", listenAndDial(NOBODY));
    TestServer.Accepted a = server.awaitAccepted(TIMEOUT);
    assertEquals(65534, a.connection().peerCredentials().orElseThrow().uid());
    // The Python client exited after MAPPED: seen as the peer gone.
    assertTrue(a.handler().awaitClosed(TIMEOUT).getMessage().contains("is gone"));
    assertEquals(List.of(0711, 0666), List.of(mode(dir), mode(dir.resolve(server.target().schemeSpecificPart().substring(2) + ".sock"))));
  }

  private static int mode(Path p) throws IOException {
    return ((Number) Files.getAttribute(p, "unix:mode", java.nio.file.LinkOption.NOFOLLOW_LINKS)).intValue() & 0777;
  }
}
