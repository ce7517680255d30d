package io.lpcbridge.it;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A server running as its own JVM on one of the test hosts: either {@link EchoServerProgram}
 * (which reports its execution counts) or the real {@code bridge serve} command line. Both print
 * {@code listening on TARGET} per bound target and then {@code ready}.
 */
final class ServerProcess implements AutoCloseable {
  static final Duration STARTUP = Duration.ofSeconds(60);

  private final ChildProcess process;
  private final Map<String, String> targets;
  private final boolean stopsOnEndOfInput;

  private ServerProcess(ChildProcess process, Map<String, String> targets, boolean stopsOnEndOfInput) {
    this.process = process;
    this.targets = targets;
    this.stopsOnEndOfInput = stopsOnEndOfInput;
  }

  /** {@link EchoServerProgram} on {@code host}, listening on an ephemeral port of its address per scheme. */
  static ServerProcess echoServer(TestNetwork.Host host, String name, List<String> schemes) {
    return echoServer(host, name, schemes, "");
  }

  /** The same, every listener with {@code options} ({@code ?io=jdk}, or empty). */
  static ServerProcess echoServer(TestNetwork.Host host, String name, List<String> schemes, String options) {
    List<String> targets = schemes.stream().map(s -> s + "://" + host.address() + ":0" + options).toList();
    ChildProcess p =
        ChildProcess.start(name, host.exec(Workspace.java(EchoServerProgram.class, targets.toArray(String[]::new))), Map.of(), Workspace.root());
    return awaitReady(p, true);
  }

  /** {@code bridge serve ARGS...} on {@code host}. */
  static ServerProcess bridgeServe(TestNetwork.Host host, String name, String... serveArgs) {
    List<String> args = new ArrayList<>(List.of("serve"));
    args.addAll(List.of(serveArgs));
    ChildProcess p =
        ChildProcess.start(name, host.exec(Workspace.java("io.lpcbridge.cli.BridgeCli", args.toArray(String[]::new))), Map.of(), Workspace.root());
    return awaitReady(p, false);
  }

  private static ServerProcess awaitReady(ChildProcess p, boolean stopsOnEndOfInput) {
    try {
      Map<String, String> targets = new LinkedHashMap<>();
      String line;
      while (!(line = p.awaitLine(l -> l.startsWith("listening on ") || l.equals("ready"), STARTUP, "'ready'")).equals("ready")) {
        String target = line.substring("listening on ".length()).strip();
        targets.putIfAbsent(target.substring(0, target.indexOf(':')), target);
      }
      System.out.println("[it] " + p.name() + " ready on " + targets.values());
      return new ServerProcess(p, targets, stopsOnEndOfInput);
    } catch (RuntimeException | AssertionError e) {
      p.terminate();
      throw e;
    }
  }

  /** The bound target of {@code scheme}, port resolved. */
  String target(String scheme) {
    String t = targets.get(scheme);
    if (t == null) {
      throw new IllegalStateException(process.name() + " does not listen on " + scheme + "; it listens on " + targets.values());
    }
    return t;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  ChildProcess process() {
    return process;
  }

  /** The counts so far ({@link EchoServerProgram} only). */
  EchoServerProgram.Stats stats() {
    process.send("stats");
    return EchoServerProgram.Stats.parse(process.awaitLineStartingWith("STATS ", Duration.ofSeconds(20)));
  }

  @Override
  public void close() {
    if (stopsOnEndOfInput) {
      process.close();
    } else {
      process.terminate();
    }
  }
}
