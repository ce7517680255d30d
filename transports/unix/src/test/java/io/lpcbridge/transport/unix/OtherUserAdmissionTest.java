package io.lpcbridge.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A process of another user (nobody, via {@code setpriv}) dials an abstract name, which has no file
 * permissions: only the listener's check of peer credentials against {@code mode} keeps it out.
 * Runs only as root with {@code setpriv} and {@code python3} at hand; skipped otherwise, saying so.
 */
class OtherUserAdmissionTest {
  private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final String NOBODY = "65534";

  /** Connects, sends one frame, and says whether it came back echoed or the server closed on it. */
  private static final String CLIENT =
      """
      import socket, struct, sys
      addr = sys.argv[1]
      if addr.startswith('@'):
          addr = '\\0' + addr[1:]
      s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
      s.settimeout(20)
      try:
          s.connect(addr)
      except OSError as e:
          print('CONNECT-FAILED', e.errno)
          sys.exit(0)
      frame = struct.pack('>I', 4) + b'ping'
      s.sendall(frame)
      got = b''
      try:
          while len(got) < len(frame):
              chunk = s.recv(len(frame) - len(got))
              if not chunk:
                  break
              got += chunk
      except ConnectionResetError:
          pass  # closed by the server before it read what was sent: refused all the same
      except OSError as e:
          print('RECV-FAILED', e)
          sys.exit(0)
      print('ECHO' if got == frame else 'CLOSED')
      """;

  @BeforeAll
  static void requireRootAndTools() throws IOException {
    long uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    String why = "needs root, " + SETPRIV + " and " + PYTHON + " to run a client as another user";
    boolean can = uid == 0 && Files.isExecutable(SETPRIV) && Files.isExecutable(PYTHON);
    if (!can) {
      System.err.println("OtherUserAdmissionTest: skipped, " + why);
    }
    Assumptions.assumeTrue(can, why);
  }

  @Test
  void anotherUserIsClosedOutOfAnAbstractNameByDefault() throws Exception {
    assertEquals("CLOSED", dialAsNobody(TransportOptions.defaults()));
  }

  @Test
  void anotherUserIsAdmittedWhenTheModeAdmitsOthers() throws Exception {
    assertEquals("ECHO", dialAsNobody(TransportOptions.defaults().with("mode", "0606")));
  }

  private static String dialAsNobody(TransportOptions options) throws Exception {
    Target target = Target.parse("unix:@lpcbridge-admission-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    try (TestServer server =
        new TestServer(new UnixTransportProvider().listen(target, options), RecordingHandler::echoing)) {
      Process p =
          new ProcessBuilder(
                  List.of(SETPRIV.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                      PYTHON.toString(), "-c", CLIENT, target.path()))
              .redirectErrorStream(true)
              .start();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "client process finished");
      return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
  }
}
