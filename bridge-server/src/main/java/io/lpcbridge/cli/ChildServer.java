package io.lpcbridge.cli;

import io.lpcbridge.transport.Target;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code bridge serve} in a child JVM: same java binary, same class path, the {@code
 * bridge.*} system properties of this JVM (so it sees the same transports). Its stderr goes to a
 * log file, shown when it fails.
 */
final class ChildServer implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final Path log;
  private final List<Target> targets;

  private ChildServer(Process process, Path log, List<Target> targets) {
    this.process = process;
    this.log = log;
    this.targets = targets;
  }

  /**
   * The command line of {@code bridge serve} on {@code targets} in a JVM like this one: same java
   * binary, class path and {@code bridge.*} system properties.
   */
  static List<String> serveCommand(List<String> targets) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    for (String p : System.getProperties().stringPropertyNames()) {
      if (p.startsWith("bridge.")) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(BridgeCli.class.getName());
    cmd.add("serve");
    for (String t : targets) {
      cmd.add("--target");
      cmd.add(t);
    }
    return cmd;
  }

  /**
   * Starts the child and waits for its {@code ready} line.
   *
   * @throws CliException when the child fails to start, exits or says nothing in time
   */
  static ChildServer start(List<String> requestedTargets, Path dir) {
    List<String> cmd = serveCommand(requestedTargets);
    Path log = dir.resolve("server.log");
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectError(log.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    } catch (IOException e) {
      throw CliException.failure("cannot start the server JVM " + cmd.get(0) + ": " + e.getMessage());
    }
    CompletableFuture<List<Target>> ready = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              List<Target> bound = new ArrayList<>();
              try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  if (line.startsWith("listening on ")) {
                    bound.add(Target.parse(line.substring("listening on ".length()).trim()));
                  } else if (line.equals("ready")) {
                    ready.complete(List.copyOf(bound));
                  }
                }
              } catch (IOException | IllegalArgumentException e) {
                ready.completeExceptionally(e);
              }
              ready.completeExceptionally(new IOException("the server exited before it was ready"));
            },
            "bridge-demo-server-stdout");
    reader.setDaemon(true);
    reader.start();
    ChildServer child;
    try {
      child = new ChildServer(p, log, ready.get(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      kill(p);
      throw CliException.failure("interrupted while the server was starting");
    } catch (ExecutionException | TimeoutException e) {
      kill(p);
      String why = e instanceof TimeoutException ? "was not ready after " + START_TIMEOUT.toSeconds() + " s" : e.getCause().getMessage();
      throw CliException.failure("the server JVM " + why + exitText(p) + logTail(log));
    }
    return child;
  }

  List<Target> targets() {
    return targets;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  /** Why the child is gone and the end of its log, for an error message. */
  String failureDetails() {
    return exitText(process) + logTail(log);
  }

  /** SIGTERM, then SIGKILL if the child has not stopped within ten seconds. */
  @Override
  public void close() {
    kill(process);
  }

  private static void kill(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static String exitText(Process p) {
    return p.isAlive() ? "" : " (exit status " + p.exitValue() + ")";
  }

  private static String logTail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      if (lines.isEmpty()) {
        return "";
      }
      List<String> tail = lines.subList(Math.max(0, lines.size() - 15), lines.size());
      return "; its stderr:\n  " + String.join("\n  ", tail);
    } catch (IOException e) {
      return "";
    }
  }
}
