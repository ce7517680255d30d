package io.lpcbridge.transport.shm;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A child JVM running {@link ShmTestPeer} (or any main class) with this JVM's class path, in the
 * manner of the testkit's {@code PeerProcess}: its stdout lines are queued for the test, its stdin
 * stays open so that it exits when this JVM dies, and {@link #kill()} sends SIGKILL.
 */
final class PeerJvm implements AutoCloseable {
  private final Process process;
  private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
  private final StringBuffer stderr = new StringBuffer();

  private PeerJvm(Process process) {
    this.process = process;
    pump(process.getInputStream(), stdout::add, "peer-stdout");
    pump(process.getErrorStream(), line -> stderr.append(line).append('\n'), "peer-stderr");
  }

  /**
   * Starts {@code mainClass} with {@code args}.
   *
   * @param prefix words before the java command, e.g. {@code taskset -c 1}; may be empty
   */
  static PeerJvm start(List<String> prefix, List<String> jvmArgs, Class<?> mainClass, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-Xmx256m");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass.getName());
    cmd.addAll(List.of(args));
    return new PeerJvm(new ProcessBuilder(cmd).start());
  }

  static PeerJvm start(Class<?> mainClass, String... args) throws IOException {
    return start(List.of(), List.of(), mainClass, args);
  }

  /** Waits for a stdout line starting with {@code word}; returns the rest of it. */
  String awaitLine(String word, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      String line = left > 0 ? stdout.poll(left, TimeUnit.NANOSECONDS) : null;
      if (line == null) {
        throw new AssertionError("peer printed no '" + word + "' line within " + timeout + "; alive=" + process.isAlive()
            + ", stderr:\n" + stderr);
      }
      if (line.startsWith(word)) {
        return line.substring(word.length()).trim();
      }
    }
  }

  /** Writes one line to the peer's standard input. */
  void tell(String line) throws IOException {
    var in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  long pid() {
    return process.pid();
  }

  /** Sends SIGKILL and waits for the process to be gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("peer process " + process.pid() + " survived SIGKILL");
    }
  }

  /** Waits for a normal exit and returns its status. */
  int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("peer process " + process.pid() + " did not exit within " + timeout + "; stderr:\n" + stderr);
    }
    return process.exitValue();
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

  private static void pump(InputStream in, Consumer<String> sink, String name) {
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
