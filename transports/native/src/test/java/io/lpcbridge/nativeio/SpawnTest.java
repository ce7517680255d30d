package io.lpcbridge.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SpawnTest {
  private static String readAll(int fd) throws Exception {
    Fds.PollSet set = new Fds.PollSet(1);
    set.set(0, fd, Fds.POLLIN);
    ByteBuffer buf = ByteBuffer.allocate(4096);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      set.poll(1000);
      int n = Fds.read(fd, buf);
      if (n == 0) {
        break;
      }
    }
    return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
  }

  @Test
  void childGetsExactlyTheMappedDescriptorsAndItsExitStatusIsReported() throws Exception {
    int[] out = Fds.pipe(Fds.O_NONBLOCK);
    // A descriptor that is not close-on-exec here must still not reach the child.
    int leaky = Fds.dup(out[1], 200);
    Fds.dup2(leaky, 201);
    try {
      Spawn.Child child =
          Spawn.spawn(
              new Spawn.Request(
                  List.of("sh", "-c", "echo \"$GREETING\" >&3; ls /proc/self/fd >&3; exit 3"),
                  Map.of("GREETING", "hi", "PATH", System.getenv("PATH")),
                  Map.of(3, out[1])));
      Fds.close(out[1]);
      out[1] = -1;
      Fds.close(leaky);
      Fds.close(201);
      String text = readAll(out[0]);
      Spawn.ExitStatus status = child.onExit().get(20, TimeUnit.SECONDS);
      assertEquals(new Spawn.ExitStatus(3, 0), status);
      assertEquals("exited with status 3", status.describe());
      assertFalse(child.isAlive());
      List<String> lines = text.lines().toList();
      assertEquals("hi", lines.get(0));
      assertFalse(lines.contains("200") || lines.contains("201"), "inherited descriptors: " + lines);
      assertTrue(lines.contains("3"), lines.toString());
      assertFalse(child.signal(Spawn.SIGKILL), "no signal after the child is reaped");
    } finally {
      Fds.closeQuietly(out[0]);
      Fds.closeQuietly(out[1]);
    }
  }

  @Test
  void killedChildIsReportedWithItsSignalAndPidfdTurnsReadable() throws Exception {
    Spawn.Child child = Spawn.spawn(new Spawn.Request(List.of("sleep", "60"), null, Map.of()));
    int pidfd = Pidfd.open(child.pid());
    try {
      Fds.PollSet set = new Fds.PollSet(1);
      set.set(0, pidfd, Fds.POLLIN);
      assertEquals(0, set.poll(0));
      assertTrue(child.signal(Spawn.SIGKILL));
      assertEquals(1, set.poll(20_000));
      Spawn.ExitStatus status = child.onExit().get(20, TimeUnit.SECONDS);
      assertEquals("was killed by signal 9 (SIGKILL)", status.describe());
    } finally {
      Fds.close(pidfd);
    }
  }

  @Test
  void commandLinesAreSplitAsAShellWouldWithoutExpanding() {
    assertEquals(List.of("java", "-cp", "/a b/c.jar", "Main", "it's", "say \"hi\"", "$HOME", "x y"),
        Spawn.splitCommandLine("  java -cp '/a b/c.jar'\tMain it\\'s \"say \\\"hi\\\"\" $HOME x\\ y "));
    assertEquals(List.of("a", ""), Spawn.splitCommandLine("a ''"));
    assertThrows(IllegalArgumentException.class, () -> Spawn.splitCommandLine("sh -c 'x"));
    assertThrows(IllegalArgumentException.class, () -> Spawn.splitCommandLine("sh -c \"x"));
    assertThrows(IllegalArgumentException.class, () -> Spawn.splitCommandLine("x \\"));
  }

  @Test
  void aMissingCommandIsNamedInTheError() {
    NativeException e =
        assertThrows(
            NativeException.class,
            () -> Spawn.spawn(new Spawn.Request(List.of("no-such-command-lpcbridge"), null, Map.of())));
    assertEquals(Errno.ENOENT, e.errno());
    assertTrue(e.getMessage().startsWith("starting 'no-such-command-lpcbridge' (posix_spawnp) failed: ENOENT"), e.getMessage());
  }
}
