package io.lpcbridge.transport.pipe;

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

/** pipe: with real child processes: launch, echo, close, kill -9 of either side, bad children. */
class PipeProcessTest {
  @TempDir Path dir;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);
  /** How soon a survivor must see its peer's death. */
  private static final Duration PROMPTLY = Duration.ofSeconds(5);
  private static final TransportOptions OPTIONS = TransportOptions.defaults().with("connectTimeout", "30s").with("maxMessageSize", "1m");

  private static Connection connect(String commandLine) throws IOException {
    Target t = Target.parse("pipe:" + commandLine);
    return Transports.forTarget(t).connect(t, OPTIONS);
  }

  /** What the echoing child prints on its stdout, which the transport has sent to stderr by then. */
  private static final String STDOUT_LINE = "this line goes to stderr, not into the channel";

  /** The command line of a child that serves pipe:stdio and echoes, quoted for a pipe: target. */
  private static String echoChild() {
    return ChildTarget.spawning("pipe", SpawnedTestChild.command("echo", "pipe:stdio", STDOUT_LINE)).schemeSpecificPart();
  }

  private static long pidOf(Connection c) {
    return Long.parseLong(c.remoteAddress().replaceAll(".*pid (\\d+).*", "$1"));
  }

  @Test
  void callsAChildOverItsStdioAndTheChildExitsWhenTheParentCloses() throws Exception {
    Connection c = connect(echoChild());
    long pid = pidOf(c);
    RecordingHandler h = new RecordingHandler();
    c.start(h);
    for (int size : new int[] {0, 1, 4096, 70_000, 1024 * 1024}) {
      byte[] m = NumberedMessage.pattern(size);
      assertTrue(c.send(ByteBuffer.wrap(m)));
      assertArrayEquals(m, h.take(TIMEOUT), size + " bytes echoed");
    }
    c.close();
    h.awaitClosedInOrder(TIMEOUT);
    ProcessHandle child = ProcessHandle.of(pid).orElse(null);
    if (child != null) {
      child.onExit().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
    h.assertContractKept();
  }

  @Test
  void aChildKilledMidStreamIsReportedPromptlyWithItsSignal() throws Exception {
    Connection c = connect(echoChild());
    RecordingHandler h = new RecordingHandler();
    c.start(h);
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
    h.take(TIMEOUT);
    ProcessHandle.of(pidOf(c)).orElseThrow().destroyForcibly();
    Throwable cause = h.awaitClosed(PROMPTLY);
    assertTrue(cause != null && cause.getMessage().contains("was killed by signal 9 (SIGKILL)"), String.valueOf(cause));
    assertFalse(c.isOpen());
    sender.interrupt();
  }

  @Test
  void aParentKilledMidStreamMakesTheChildSeeTheCloseAndExitAndItsStderrIsPassedThrough() throws Exception {
    // The parent's stderr is a file, not a pipe: the JDK closes a Process's pipes when it exits,
    // which would hide what the orphaned child writes there afterwards.
    File log = new File(dir.toFile(), "parent-stderr.log");
    Process parent =
        new ProcessBuilder(SpawnedTestChild.command("parent", "pipe:" + echoChild()))
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
      // null (end of file), or a broken pipe when the parent died with data unread: any close.
      awaitLine(log, "child saw close: ");
    } finally {
      parent.destroyForcibly();
    }
  }

  /** Waits for a line starting with {@code prefix} in {@code log} and returns it. */
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
  void aChildThatExitsBeforeServingIsNamedWithItsStatus() {
    IOException e = assertThrows(IOException.class, () -> connect("sh -c 'exit 3'"));
    assertTrue(e.getMessage().startsWith("cannot connect to pipe:sh -c 'exit 3': the child pid "), e.getMessage());
    assertTrue(e.getMessage().contains("exited with status 3 before it started serving"), e.getMessage());
  }

  @Test
  void aChildThatPrintsToStdoutFirstIsRefusedWithWhatItPrinted() {
    IOException e = assertThrows(IOException.class, () -> connect("sh -c 'echo hello; sleep 20'"));
    assertTrue(e.getMessage().contains("wrote \"hello\\x0a\" where a bridge server's ready preamble belongs"), e.getMessage());
  }

  @Test
  void aMissingCommandIsNamed() {
    IOException e = assertThrows(IOException.class, () -> connect("no-such-command-lpcbridge --flag"));
    assertTrue(e.getMessage().startsWith("cannot connect to pipe:no-such-command-lpcbridge --flag: starting 'no-such-command-lpcbridge'"), e.getMessage());
    assertTrue(e.getMessage().contains("ENOENT"), e.getMessage());
  }

  @Test
  void anOversizedFrameFromTheChildFailsTheConnection() throws Exception {
    Connection c = connect("sh -c \"printf 'LPCBRDY\\\\001\\\\177\\\\377\\\\377\\\\377'\"");
    RecordingHandler h = new RecordingHandler();
    c.start(h);
    Throwable cause = h.awaitClosed(TIMEOUT);
    assertInstanceOf(ProtocolException.class, cause);
    assertTrue(cause.getMessage().startsWith("frame length 2147483647 exceeds maxMessageSize 1048576"), cause.getMessage());
  }

  @Test
  void garbageEndingMidFrameIsReportedAsATruncatedFrame() throws Exception {
    Connection c = connect("sh -c \"printf 'LPCBRDY\\\\001\\\\000\\\\000\\\\000\\\\010abc'\"");
    RecordingHandler h = new RecordingHandler();
    c.start(h);
    Throwable cause = h.awaitClosed(TIMEOUT);
    assertTrue(String.valueOf(cause).contains("3 of 8 payload bytes arrived"), String.valueOf(cause));
  }

  @Test
  void stdioThatIsNotAPipeIsRefusedWithTheReason() throws Exception {
    Process p =
        new ProcessBuilder(SpawnedTestChild.command("echo", "pipe:stdio", STDOUT_LINE)).redirectInput(new File("/dev/null")).start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    assertTrue(err.contains("stdin and stdout of this process must be pipes from a pipe: parent, but stdin is a terminal or character device"), err);
  }

  @Test
  void targetsAreCheckedBeforeAnythingStarts() {
    var p = new PipeTransportProvider();
    assertEquals(
        "cannot connect to 'pipe:stdio': pipe:stdio is the child's side, which listens (bridge serve --target pipe:stdio);"
            + " the parent connects to pipe:<command line>",
        assertThrows(IllegalArgumentException.class, () -> p.connect(Target.parse("pipe:stdio"), OPTIONS)).getMessage());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.listen(Target.parse("pipe:cat"), OPTIONS))
        .getMessage().contains("the child it starts listens on pipe:stdio"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.connect(Target.parse("pipe:"), OPTIONS))
        .getMessage().startsWith("target 'pipe:' names no command to start"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.connect(Target.parse("pipe:cat"), OPTIONS.with("command", "cat")))
        .getMessage().contains("give one of them"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.connect(Target.parse("pipe:sh -c 'x"), OPTIONS))
        .getMessage().contains("unterminated ' quote"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> p.connect(Target.parse("pipe:cat"), OPTIONS.with("comand", "x")))
        .getMessage().contains("known options"));
    assertTrue(p.loopbackTargets(java.nio.file.Path.of("/tmp")).isEmpty());
  }

  @Test
  void theCommandOptionWorksLikeTheTarget() throws Exception {
    Target t = Target.parse("pipe:");
    IOException e = assertThrows(IOException.class, () -> Transports.connect(t, OPTIONS.with("command", "sh -c 'exit 4'")));
    assertTrue(e.getMessage().contains("exited with status 4"), e.getMessage());
  }

  @Test
  void theChildsStderrCanGoToAFileInsteadOfOurs() throws Exception {
    Path log = dir.resolve("child.log");
    IOException e = assertThrows(IOException.class,
        () -> Transports.connect(Target.parse("pipe:sh -c 'echo to-stderr >&2; exit 6'"), OPTIONS.with("childStderr", log.toString())));
    assertTrue(e.getMessage().contains("exited with status 6"), e.getMessage());
    assertEquals("to-stderr\n", Files.readString(log));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> Transports.connect(Target.parse("pipe:true"), OPTIONS.with("childStderr", "relative.log"))).getMessage()
        .contains("neither inherit, discard nor an absolute file path"));
  }

  @Test
  void inProcessConnectWithoutListenerFailsNamingTheTarget() {
    Target t = Target.parse("pipe:@nobody-here");
    IOException e = assertThrows(IOException.class, () -> Transports.connect(t, OPTIONS));
    assertTrue(e.getMessage().startsWith("cannot connect to pipe:@nobody-here: no pipe listener"), e.getMessage());
  }
}
