package io.lpcbridge.transport.socketpair;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.channel.ChildTarget;
import io.lpcbridge.transport.testkit.NumberedMessage;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.SpawnedTestChild;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** socketpair: with real worker processes: launch, echo, close, kill -9 of either side, restart. */
class SocketpairProcessTest {
  @TempDir Path dir;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  private static final Duration PROMPTLY = Duration.ofSeconds(5);
  private static final TransportOptions OPTIONS = TransportOptions.defaults().with("connectTimeout", "30s").with("maxMessageSize", "1m");

  private static Connection connect(String commandLine) throws IOException {
    return Transports.connect(Target.parse("socketpair:" + commandLine), OPTIONS);
  }

  /** What the echoing worker prints on its stdout, which goes to the parent's stderr. */
  private static final String STDOUT_LINE = "the worker prints to the parent's stderr";

  /** The command line of a worker that serves socketpair:inherited and echoes, quoted for a socketpair: target. */
  private static String echoChild() {
    return ChildTarget.spawning("socketpair", SpawnedTestChild.command("echo", "socketpair:inherited", STDOUT_LINE)).schemeSpecificPart();
  }

  private static long pidOf(Connection c) {
    return Long.parseLong(c.remoteAddress().replaceAll(".*pid (\\d+).*", "$1"));
  }

  private static void assertEchoes(Connection c, RecordingHandler h, int... sizes) throws Exception {
    for (int size : sizes) {
      byte[] m = NumberedMessage.pattern(size);
      assertTrue(c.send(ByteBuffer.wrap(m)));
      assertArrayEquals(m, h.take(TIMEOUT), size + " bytes echoed");
    }
  }

  @Test
  void aKilledWorkerIsReportedAtOnceAndReconnectingStartsANewOne() throws Exception {
    String worker = echoChild();
    Connection c = connect(worker);
    RecordingHandler h = new RecordingHandler();
    c.start(h);
    assertEchoes(c, h, 0, 1, 65_536, 1024 * 1024);
    Thread sender = Thread.ofPlatform().daemon().start(() -> {
      for (long seq = 0; c.isOpen(); seq++) {
        c.send(NumberedMessage.encode(0, seq, 1000));
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    long first = pidOf(c);
    ProcessHandle.of(first).orElseThrow().destroyForcibly();
    Throwable cause = h.awaitClosed(PROMPTLY);
    assertTrue(cause != null && cause.getMessage().contains("was killed by signal 9 (SIGKILL)"), String.valueOf(cause));
    assertFalse(c.isOpen());
    sender.interrupt();

    Connection again = connect(worker);
    assertNotEquals(first, pidOf(again), "a new worker");
    RecordingHandler h2 = new RecordingHandler();
    again.start(h2);
    assertEchoes(again, h2, 100);
    again.close();
    h2.awaitClosedInOrder(TIMEOUT);
    ProcessHandle.of(pidOf(again)).ifPresent(p -> p.onExit().join());
  }

  @Test
  void aParentKilledMidStreamMakesTheWorkerSeeTheCloseAndExit() throws Exception {
    File log = new File(dir.toFile(), "parent-stderr.log");
    Process parent =
        new ProcessBuilder(
                SpawnedTestChild.command("parent", "socketpair:" + echoChild()))
            .redirectError(log)
            .start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(parent.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertTrue(line != null && line.startsWith("CHILD "), "parent said " + line + "; stderr " + Files.readString(log.toPath()));
      ProcessHandle child = ProcessHandle.of(Long.parseLong(line.substring(6))).orElseThrow();
      awaitLine(log, STDOUT_LINE);
      parent.destroyForcibly().waitFor();
      child.onExit().get(PROMPTLY.toSeconds(), TimeUnit.SECONDS);
      // null (end of file), or a reset/broken pipe when the parent died with data unread: any close.
      awaitLine(log, "child saw close: ");
    } finally {
      parent.destroyForcibly();
    }
  }

  private static String awaitLine(File log, String prefix) throws Exception {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      for (String l : Files.readAllLines(log.toPath(), StandardCharsets.UTF_8)) {
        if (l.startsWith(prefix)) {
          return l;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no line starting with '" + prefix + "' in " + log + ":\n" + Files.readString(log.toPath()));
  }

  @Test
  void aWorkerThatExitsBeforeServingIsNamedWithItsStatus() {
    IOException e = assertThrows(IOException.class, () -> connect("sh -c 'exit 5'"));
    assertTrue(e.getMessage().contains("exited with status 5 before it started serving"), e.getMessage());
  }

  @Test
  void theWorkerSeesItsSocketOnDescriptor3AndStdinIsDevNull() throws Exception {
    // The worker's stdout goes to our stderr, so it reports through its exit status.
    IOException e = assertThrows(IOException.class,
        () -> connect("sh -c '[ \"$LPCBRIDGE_SOCKETPAIR_FD\" = 3 ] && [ -S /proc/self/fd/3 ] && [ \"$(readlink /proc/self/fd/0)\" = /dev/null ] && exit 7; exit 8'"));
    assertTrue(e.getMessage().contains("exited with status 7"), e.getMessage());
  }

  @Test
  void anOversizedFrameFromTheWorkerFailsTheConnection() throws Exception {
    Connection c = connect("sh -c \"printf 'LPCBRDY\\\\001\\\\377\\\\377\\\\377\\\\377' >&3\"");
    RecordingHandler h = new RecordingHandler();
    c.start(h);
    Throwable cause = h.awaitClosed(TIMEOUT);
    assertInstanceOf(ProtocolException.class, cause);
    assertTrue(cause.getMessage().startsWith("frame length 4294967295 exceeds maxMessageSize 1048576"), cause.getMessage());
  }

  @Test
  void listeningOnInheritedOutsideAWorkerSaysWhy() {
    IOException e = assertThrows(IOException.class, () -> Transports.listen(Target.parse("socketpair:inherited"), OPTIONS));
    assertTrue(e.getMessage().contains("this process was not started by a socketpair: parent"), e.getMessage());
  }

  @Test
  void targetsAreCheckedBeforeAnythingStarts() {
    var p = new SocketpairTransportProvider();
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.connect(Target.parse("socketpair:inherited"), OPTIONS))
        .getMessage().contains("is the worker's side, which listens"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.listen(Target.parse("socketpair:cat"), OPTIONS))
        .getMessage().contains("the worker it starts listens on socketpair:inherited"));
    assertEquals(Target.parse("socketpair:@x"), assertDoesNotThrowListen(p));
  }

  private static Target assertDoesNotThrowListen(SocketpairTransportProvider p) {
    try (var l = p.listen(Target.parse("socketpair:@x"), OPTIONS)) {
      return l.localTarget();
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }
}
