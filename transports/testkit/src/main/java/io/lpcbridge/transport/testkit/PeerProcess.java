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
 * A child JVM for tests: launched with this JVM's {@code java}, class path and {@code bridge.*}
 * system properties; its stdout lines are queued for {@link #awaitLine}, its stderr kept for
 * diagnostics, and its stdin stays an open pipe, so a peer that exits on end of input dies with
 * this JVM. {@link #kill} sends SIGKILL. Runs {@link ConformancePeer} for the conformance suite, or
 * any main class.
 */
public final class PeerProcess implements AutoCloseable {
  private final Process process;
  private final BlockingQueue<String> stdout = new LinkedBlockingQueue<>();
  private final StringBuffer stderr = new StringBuffer();

  private PeerProcess(Process process) {
    this.process = process;
    pump(process.getInputStream(), stdout::add, "peer-stdout");
    pump(process.getErrorStream(), line -> stderr.append(line).append('\n'), "peer-stderr");
  }

  /**
   * The command line that runs {@code main} with {@code args} in a JVM like this one: its {@code
   * java}, class path, temporary directory and {@code bridge.*} system properties, then {@code
   * jvmArgs}.
   */
  public static List<String> javaCommand(List<String> jvmArgs, Class<?> main, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
    for (Map.Entry<Object, Object> e : System.getProperties().entrySet()) {
      if (e.getKey().toString().startsWith("bridge.")) {
        cmd.add("-D" + e.getKey() + "=" + e.getValue());
      }
    }
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(List.of(args));
    return cmd;
  }

  /**
   * Starts {@link #javaCommand} after {@code prefix}.
   *
   * @param prefix words before the java command, e.g. {@code taskset -c 1}; may be empty
   */
  public static PeerProcess start(List<String> prefix, List<String> jvmArgs, Class<?> main, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.addAll(javaCommand(jvmArgs, main, args));
    return new PeerProcess(new ProcessBuilder(cmd).start());
  }

  public static PeerProcess start(Class<?> main, String... args) throws IOException {
    return start(List.of(), List.of(), main, args);
  }

  /** A {@link ConformancePeer} that does {@code mode} on {@code target}: a short-lived helper, small heap, quick start. */
  static PeerProcess start(String mode, Target target, TransportOptions options, List<String> jvmArgs) throws IOException {
    List<String> jvm = new ArrayList<>(List.of("-Xmx128m", "-XX:TieredStopAtLevel=1"));
    jvm.addAll(jvmArgs);
    List<String> args = new ArrayList<>(List.of(mode, target.toString()));
    for (Map.Entry<String, String> e : options.asMap().entrySet()) {
      args.add(e.getKey() + "=" + e.getValue());
    }
    return start(List.of(), jvm, ConformancePeer.class, args.toArray(String[]::new));
  }

  /** Waits for a line on the peer's stdout starting with {@code word} and returns the rest. */
  public String awaitLine(String word, Duration timeout) throws InterruptedException {
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

  /** Writes one line to the peer's standard input. */
  public void tell(String line) throws IOException {
    var in = process.getOutputStream();
    in.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    in.flush();
  }

  public long pid() {
    return process.pid();
  }

  /** Kills the peer with SIGKILL (on Linux) and waits for it to be gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("peer process " + process.pid() + " survived destroyForcibly");
    }
  }

  /** Waits for a normal exit and returns its status. */
  public int awaitExit(Duration timeout) throws InterruptedException {
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError("peer process " + process.pid() + " did not exit within " + timeout + "; stderr:\n" + stderr);
    }
    return process.exitValue();
  }

  public String stderr() {
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
