package io.lpcbridge.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process the test started (a JVM or node, usually inside a namespace), with its stdout and
 * stderr merged, kept in memory for assertions and copied to {@code target/it-work/logs/NAME.log}.
 * Every wait is bounded; a failed wait quotes the last lines the process printed. {@link #close}
 * ends it: stdin closed (the programs here exit on EOF), then SIGTERM, then SIGKILL.
 */
final class ChildProcess implements AutoCloseable {
  private final String name;
  private final Process process;
  private final Writer stdin;
  private final Path log;
  private final Object lock = new Object();
  // Guarded by lock.
  private final List<String> lines = new ArrayList<>();
  // Guarded by lock: how many lines awaitLine has consumed.
  private int consumed;
  private boolean ended;

  private ChildProcess(String name, Process process, Path log) {
    this.name = name;
    this.process = process;
    this.log = log;
    this.stdin = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    Thread.ofPlatform().daemon().name("it-output-" + name).start(this::pump);
  }

  static ChildProcess start(String name, List<String> command, Map<String, String> env, Path workDir) {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).directory(workDir.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("BRIDGE_"));
    pb.environment().putAll(env);
    Path log = Workspace.dir("logs").resolve(name + ".log");
    try {
      Files.writeString(log, "$ " + String.join(" ", command) + "\n" + (env.isEmpty() ? "" : "  env " + env + "\n"));
      return new ChildProcess(name, pb.start(), log);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + command, e);
    }
  }

  private void pump() {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        Writer w = Files.newBufferedWriter(log, StandardOpenOption.APPEND)) {
      String line;
      while ((line = r.readLine()) != null) {
        w.write(line);
        w.write('\n');
        w.flush();
        synchronized (lock) {
          lines.add(line);
          lock.notifyAll();
        }
      }
    } catch (IOException e) {
      // the process is gone; what it printed is kept
    } finally {
      synchronized (lock) {
        ended = true;
        lock.notifyAll();
      }
    }
  }

  String name() {
    return name;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Sends one line to the process's stdin. */
  void send(String line) {
    try {
      stdin.write(line + "\n");
      stdin.flush();
    } catch (IOException e) {
      throw new AssertionError(name + " no longer reads its input (" + e.getMessage() + ")\n" + tail(), e);
    }
  }

  /**
   * The next line (after those already consumed) that matches, within {@code timeout}; lines
   * before it are consumed too.
   *
   * @throws AssertionError on timeout or when the process's output ends first
   */
  String awaitLine(Predicate<String> matches, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (true) {
        while (consumed < lines.size()) {
          String l = lines.get(consumed++);
          if (matches.test(l)) {
            return l;
          }
        }
        if (ended) {
          throw new AssertionError(name + " ended (exit " + exitValueOrRunning() + ") before printing " + what + "\n" + tail());
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new AssertionError(name + " did not print " + what + " within " + timeout.toMillis() + " ms\n" + tail());
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("interrupted waiting for " + name, e);
        }
      }
    }
  }

  String awaitLineStartingWith(String prefix, Duration timeout) {
    return awaitLine(l -> l.startsWith(prefix), timeout, "a line starting with '" + prefix + "'");
  }

  /** Waits for the process to exit by itself; kills it and fails if it does not in time. */
  int awaitExit(Duration timeout) {
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(name + " did not exit within " + timeout.toMillis() + " ms (killed)\n" + tail());
      }
      // Let the pump read the last lines before anyone looks at them.
      synchronized (lock) {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!ended && System.nanoTime() < until) {
          lock.wait(100);
        }
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for " + name, e);
    }
  }

  List<String> lines() {
    synchronized (lock) {
      return List.copyOf(lines);
    }
  }

  /** The last lines printed, for failure messages. */
  String tail() {
    List<String> all = lines();
    List<String> last = all.subList(Math.max(0, all.size() - 40), all.size());
    return "--- last " + last.size() + " lines of " + name + " (full log: " + log + ")\n" + String.join("\n", last);
  }

  private String exitValueOrRunning() {
    return process.isAlive() ? "still running" : String.valueOf(process.exitValue());
  }

  /** Closes stdin, then SIGTERM after 5 s, then SIGKILL after 5 s more; waits at most about 15 s. */
  @Override
  public void close() {
    closeStdin();
    stop(5);
  }

  /** SIGTERM at once (for programs that stop on a signal, like {@code bridge serve}), then SIGKILL after 10 s. */
  void terminate() {
    closeStdin();
    stop(0);
  }

  private void closeStdin() {
    try {
      stdin.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  private void stop(long graceSeconds) {
    try {
      if (!process.waitFor(graceSeconds, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          process.waitFor(5, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
