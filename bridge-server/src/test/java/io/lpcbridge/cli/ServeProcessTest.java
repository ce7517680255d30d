package io.lpcbridge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bridge serve} as its own process: it prints its targets, answers, and stops on SIGTERM. */
class ServeProcessTest {
  @TempDir Path dir;

  private Process serve(String... args) throws IOException {
    return serveLogging("stderr", args);
  }

  private Process serveLogging(String errFile, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BridgeCli.class.getName());
    cmd.add("serve");
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectError(dir.resolve(errFile).toFile()).start();
  }

  private String stderr() throws IOException {
    return Files.readString(dir.resolve("stderr"));
  }

  @Test
  void printsItsTargetsAnswersAndStopsOnSigterm() throws Exception {
    Process p =
        serve("--target", "tcp://127.0.0.1:0", "--target", "unix://" + dir.resolve("s.sock"), "--target", "grpc://127.0.0.1:0");
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      List<String> targets = new ArrayList<>();
      String line;
      while ((line = out.readLine()) != null && !line.equals("ready")) {
        assertTrue(line.startsWith("listening on "), line);
        targets.add(line.substring("listening on ".length()));
      }
      assertEquals("ready", line, "stderr: " + stderr());
      assertEquals(3, targets.size(), targets::toString);
      assertTrue(targets.get(0).matches("tcp://127\\.0\\.0\\.1:[1-9]\\d*"), targets::toString);
      assertEquals("unix://" + dir.resolve("s.sock"), targets.get(1));
      assertTrue(targets.get(2).matches("grpc://127\\.0\\.0\\.1:[1-9]\\d*"), targets::toString);

      for (String t : targets) {
        Cli r = Cli.run("call", t, "Echo/Say", "{\"payload\":\"aGk=\"}");
        assertEquals(0, r.exit(), r::toString);
        assertEquals(List.of("{\"payload\":\"aGk=\"}"), r.lines());
      }

      p.destroy();
      assertTrue(p.waitFor(15, TimeUnit.SECONDS), "serve did not stop within 15 s of SIGTERM");
      assertEquals(0, p.exitValue(), () -> "stderr: " + stderrQuietly());
      assertTrue(stderr().contains("bridge serve: SIGTERM: stopping"), this::stderrQuietly);
      assertTrue(stderr().contains("bridge serve: stopped"), this::stderrQuietly);
      assertFalse(Files.exists(dir.resolve("s.sock")), "the socket file is removed");
    } finally {
      p.destroyForcibly();
    }
  }

  /** Reads 'listening on' lines up to 'ready'; returns the targets. */
  private List<String> awaitReady(Process p) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    List<String> targets = new ArrayList<>();
    String line;
    while ((line = out.readLine()) != null && !line.equals("ready")) {
      if (line.startsWith("listening on ")) {
        targets.add(line.substring("listening on ".length()));
      }
    }
    assertEquals("ready", line, "serve did not come up");
    return targets;
  }

  @Test
  void forwardsWhatItDoesNotHost() throws Exception {
    Process backend = serveLogging("backend.err", "--target", "tcp://127.0.0.1:0");
    Process front = null;
    try {
      String b = awaitReady(backend).getFirst();
      front = serveLogging("front.err", "--no-demo", "--target", "unix://" + dir.resolve("front.sock"), "--forward", b);
      String a = awaitReady(front).getFirst();
      Cli put = Cli.run("call", a, "KeyValue/Put", "{\"key\":\"k\",\"value\":\"dg==\"}");
      assertEquals(0, put.exit(), put::toString);
      // The front hosts nothing but health and reflection: KeyValue ran on the backend.
      Cli get = Cli.run("call", b, "KeyValue/Get", "{\"key\":\"k\"}");
      assertEquals(List.of("{\"value\":\"dg==\",\"version\":\"1\"}"), get.lines(), get::toString);
      Cli expand = Cli.run("call", a, "Echo/Expand", "{\"payload\":\"aGk=\",\"responseCount\":2}");
      assertEquals(List.of("{\"payload\":\"aGk=\"}", "{\"payload\":\"aGk=\",\"index\":1}"), expand.lines(), expand::toString);
    } finally {
      backend.destroyForcibly();
      if (front != null) {
        front.destroyForcibly();
      }
    }
  }

  @Test
  void addressInUseIsOneLineAndExitCode1() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Process p = serve("--target", "tcp://127.0.0.1:" + taken.getLocalPort());
      try {
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "serve should have given up");
        assertEquals(1, p.exitValue());
        assertEquals("", new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        String err = stderr();
        assertTrue(err.startsWith("bridge serve: cannot serve: ") && err.contains("Address already in use"), err);
        assertEquals(1, err.lines().count(), err);
      } finally {
        p.destroyForcibly();
      }
    }
  }

  private String stderrQuietly() {
    try {
      return stderr();
    } catch (IOException e) {
      return e.toString();
    }
  }
}
