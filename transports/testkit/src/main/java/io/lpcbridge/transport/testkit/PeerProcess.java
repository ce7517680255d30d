package io.lpcbridge.transport.testkit;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ConformancePeer} running in a child JVM, launched with this JVM's {@code java}, class
 * path and {@code bridge.*} system properties.
 */
final class PeerProcess implements AutoCloseable {
  private final Process process;
  private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
  private final StringBuffer stderr = new StringBuffer();

  private PeerProcess(Process process) {
    this.process = process;
    pump(process.getInputStream(), line -> stdout.add(line), "peer-stdout");
    pump(process.getErrorStream(), line -> stderr.append(line).append('\n'), "peer-stderr");
  }

  static PeerProcess start(String mode, Target target, TransportOptions options, List<String> jvmArgs)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    // A short-lived helper: small heap, quick start.
    cmd.add("-Xmx128m");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
      if (e.getKey().toString().startsWith("bridge.")) {
        cmd.add("-D" + e.getKey() + "=" + e.getValue());
      }
    }
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(ConformancePeer.class.getName());
    cmd.add(mode);
    cmd.add(target.toString());
    for (Map.Entry<String, String> e : options.asMap().entrySet()) {
      cmd.add(e.getKey() + "=" + e.getValue());
    }
    // stdin stays a pipe: the peer exits when it reaches EOF, i.e. when this JVM dies.
    return new PeerProcess(new ProcessBuilder(cmd).start());
  }

  /** Waits for a line on the peer's stdout starting with {@code word} and returns the rest. */
  String awaitLine(String word, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? stdout.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        throw new AssertionError(
            "peer printed no '" + word + "' line within " + timeout + "; alive=" + process.isAlive()
                + ", stderr:\n" + stderr);
      }
      if (line.startsWith(word)) {
        return line.substring(word.length()).trim();
      }
    }
  }

  /** Kills the peer with SIGKILL (on Linux) and waits for it to be gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("peer process " + process.pid() + " survived destroyForcibly");
    }
  }

  String stderr() {
    return stderr.toString();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }

  private static void pump(InputStream in, java.util.function.Consumer<String> sink, String name) {
    Thread.ofPlatform()
        .daemon()
        .name(name)
        .start(
            () -> {
              try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                  sink.accept(line);
                }
              } catch (IOException e) {
                // The process is gone.
              }
            });
  }
}
