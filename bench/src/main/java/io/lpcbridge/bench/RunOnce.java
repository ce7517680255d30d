package io.lpcbridge.bench;

import com.google.gson.Gson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One run in one placement: a {@link BenchServer} JVM and a {@link BenchClient} JVM, each pinned as
 * the placement says, the client measuring every scenario against the server. Rows stream back as
 * the client prints them.
 */
final class RunOnce {
  private static final Gson GSON = new Gson();
  private static final long START_TIMEOUT_SECONDS = 60;
  private static final String EOF = "\0eof";

  /** What the run reports as it goes. */
  interface Listener {
    void progress(int done, int total, String label);

    void row(Row row);
  }

  /** The child processes alive now, for the shutdown hook of an interrupted run. */
  private static final java.util.Set<Process> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private RunOnce() {}

  /** Kills every child still running (Ctrl-C). */
  static void killAll() {
    LIVE.forEach(Process::destroyForcibly);
  }

  /**
   * @return every row of the run, in scenario order (a failed scenario is a row with its error)
   * @throws IOException when a process cannot be started or dies; the message has the end of its log
   */
  static List<Row> run(
      int run, Placement placement, List<Endpoint> endpoints, List<Scenario> scenarios, long firstWarmupMillis, boolean directExecutor,
      Path dir, Listener listener)
      throws IOException, InterruptedException {
    Path control = dir.resolve("control-" + run + "-" + placement.name() + ".sock");
    List<String> serverArgs = new ArrayList<>(List.of("--control", control.toString()));
    if (directExecutor) {
      serverArgs.add("--direct-executor");
    }
    for (Endpoint e : endpoints) {
      if (!e.spawned()) {
        serverArgs.add("--listen");
        serverArgs.add(e.toSpec());
      }
    }
    Path serverLog = dir.resolve("server-" + run + "-" + placement.name() + ".log");
    Process server =
        new ProcessBuilder(Jvm.command(placement.prefix(false), BenchServer.class, serverArgs))
            .redirectError(serverLog.toFile())
            .start();
    LIVE.add(server);
    Process client = null;
    try {
      Map<String, String> bound = awaitReady(server, serverLog);
      List<Endpoint> resolved = new ArrayList<>();
      for (Endpoint e : endpoints) {
        resolved.add(e.spawned() ? spawned(e, run, placement, dir) : e.withTarget(bound.get(e.id())));
      }
      Path planFile = dir.resolve("plan-" + run + "-" + placement.name() + ".json");
      Files.writeString(planFile, GSON.toJson(new ClientPlan(run, placement.label(), control.toString(), firstWarmupMillis, resolved, scenarios)));
      Path clientLog = dir.resolve("client-" + run + "-" + placement.name() + ".log");
      client =
          new ProcessBuilder(Jvm.command(placement.prefix(true), BenchClient.class, List.of(planFile.toString())))
              .redirectError(clientLog.toFile())
              .start();
      LIVE.add(client);
      List<Row> rows = new ArrayList<>();
      try (BufferedReader r = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (line.startsWith("progress ")) {
            String[] p = line.split(" ", 4);
            listener.progress(Integer.parseInt(p[1]) - 1, Integer.parseInt(p[2]), p.length > 3 ? p[3] : "");
          } else if (line.startsWith("row ")) {
            Row row = GSON.fromJson(line.substring(4), Row.class);
            rows.add(row);
            listener.row(row);
          }
        }
      }
      if (!client.waitFor(30, TimeUnit.SECONDS) || client.exitValue() != 0) {
        throw new IOException("the bench client " + (client.isAlive() ? "hung" : "exited with status " + client.exitValue())
            + " after " + rows.size() + " of " + scenarios.size() + " scenarios" + tail(clientLog)
            + (server.isAlive() ? "" : "; the server died too" + tail(serverLog)));
      }
      listener.progress(scenarios.size(), scenarios.size(), "");
      return rows;
    } finally {
      stop(client);
      stop(server);
    }
  }

  /**
   * A transport whose client launches the server: the peer is a quiet {@link BenchServer} pinned
   * like the shared one, with a control socket of its own, and the {@link SpawnedPeers} hook says
   * how the client's target makes the transport launch it.
   */
  private static Endpoint spawned(Endpoint e, int run, Placement placement, Path dir) throws IOException {
    io.lpcbridge.transport.TransportProvider provider = io.lpcbridge.transport.Transports.providers().stream()
        .filter(p -> p.name().equals(e.transport())).findFirst()
        .orElseThrow(() -> new IOException("transport " + e.transport() + " disappeared from the class path"));
    SpawnedPeers hook = SpawnedPeers.find(provider).orElseThrow(() -> new IOException("no SpawnedPeers hook for " + e.transport()));
    Path control = dir.resolve("control-" + e.id() + "-" + run + "-" + placement.name() + ".sock");
    List<String> peer = Jvm.command(placement.prefix(false), BenchServer.class,
        List.of("--quiet", "--control", control.toString(), "--listen", e.toSpec()));
    SpawnedPeers.ClientTarget t = hook.clientTarget(provider, peer);
    return e.spawnedAs(t.target(), t.options(), control.toString());
  }

  private static Map<String, String> awaitReady(Process server, Path log) throws IOException, InterruptedException {
    BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    Thread.ofPlatform().daemon().name("bench-server-stdout").start(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException e) {
        // The server is gone; said below.
      }
      lines.add(EOF);
    });
    Map<String, String> bound = new LinkedHashMap<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
    while (true) {
      String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        server.destroyForcibly();
        throw new IOException("the bench server was not ready after " + START_TIMEOUT_SECONDS + " s" + tail(log));
      }
      if (line.equals(EOF)) {
        throw new IOException("the bench server exited before it was ready" + tail(log));
      }
      if (line.startsWith("listening ")) {
        String[] p = line.split(" ", 3);
        bound.put(p[1], p[2]);
      } else if (line.equals("ready")) {
        return bound;
      }
    }
  }

  private static void stop(Process p) {
    if (p == null) {
      return;
    }
    LIVE.remove(p);
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

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      if (lines.isEmpty()) {
        return "";
      }
      return "; " + log.getFileName() + ":\n  " + String.join("\n  ", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }
}
