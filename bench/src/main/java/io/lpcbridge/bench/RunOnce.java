package io.lpcbridge.bench;

import com.google.gson.Gson;
import io.lpcbridge.transport.Target;
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
 *
 * <p>Endpoints with {@link Endpoint#loss} get their loss once the server has bound their ports
 * ({@link LoopbackLoss}, for the whole run: the rules match those ports alone), and each of their
 * rows gets the datagrams the rules saw and dropped between the scenario's start and its row.
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
      int run, Placement placement, List<Endpoint> endpoints, List<Scenario> scenarios, Warmup warmup, boolean directExecutor,
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
    LoopbackLoss loss = null;
    try {
      Map<String, String> bound = awaitReady(server, serverLog);
      List<Endpoint> resolved = new ArrayList<>();
      Map<String, Integer> lossPorts = new LinkedHashMap<>();
      Map<Integer, Integer> percentByPort = new LinkedHashMap<>();
      for (Endpoint e : endpoints) {
        Endpoint r = e.spawned() ? spawned(e, run, placement, directExecutor, dir) : e.withTarget(bound.get(e.id()));
        resolved.add(r);
        if (r.loss() > 0) {
          int port = Target.parse(r.target()).hostPort(-1).port();
          lossPorts.put(r.id(), port);
          percentByPort.put(port, r.loss());
        }
      }
      String notInjected = null;
      if (!percentByPort.isEmpty()) {
        try {
          loss = LoopbackLoss.install(percentByPort);
        } catch (IOException e) {
          notInjected = "not measured: the packet loss could not be injected: " + e.getMessage();
        }
      }
      List<Scenario> planned = notInjected == null ? scenarios : scenarios.stream().filter(s -> !lossPorts.containsKey(s.endpoint())).toList();
      ClientPlan plan = new ClientPlan(run, placement.label(), control.toString(), warmup, resolved, planned);
      List<Row> unmeasured = new ArrayList<>();
      if (notInjected != null) {
        for (Scenario s : scenarios) {
          if (lossPorts.containsKey(s.endpoint())) {
            Endpoint e = resolved.stream().filter(x -> x.id().equals(s.endpoint())).findFirst().orElseThrow();
            unmeasured.add(BenchClient.failed(plan, e, s, notInjected));
          }
        }
      }
      Path planFile = dir.resolve("plan-" + run + "-" + placement.name() + ".json");
      Files.writeString(planFile, GSON.toJson(plan));
      Path clientLog = dir.resolve("client-" + run + "-" + placement.name() + ".log");
      client =
          new ProcessBuilder(Jvm.command(placement.prefix(true), BenchClient.class, List.of(planFile.toString())))
              .redirectError(clientLog.toFile())
              .start();
      LIVE.add(client);
      List<Row> rows = new ArrayList<>();
      LossCount counting = null;
      try (BufferedReader r = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          if (line.startsWith("progress ")) {
            String[] p = line.split(" ", 4);
            int i = Integer.parseInt(p[1]);
            listener.progress(i - 1, Integer.parseInt(p[2]), p.length > 3 ? p[3] : "");
            Integer port = i >= 1 && i <= planned.size() ? lossPorts.get(planned.get(i - 1).endpoint()) : null;
            counting = loss != null && port != null ? LossCount.start(loss, port) : null;
          } else if (line.startsWith("row ")) {
            Row row = GSON.fromJson(line.substring(4), Row.class);
            if (row.loss() > 0 && counting != null) {
              row = counting.finish(row);
            }
            counting = null;
            rows.add(row);
            listener.row(row);
          }
        }
      }
      for (Row row : unmeasured) {
        rows.add(row);
        listener.row(row);
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
      if (loss != null) {
        loss.close();
      }
    }
  }

  /** The loss counters of one port from a scenario's start: the row then says how much was dropped. */
  private record LossCount(LoopbackLoss loss, int port, LoopbackLoss.Counts before, String failure) {
    static LossCount start(LoopbackLoss loss, int port) {
      try {
        return new LossCount(loss, port, loss.counts(port), null);
      } catch (IOException e) {
        return new LossCount(loss, port, null, e.getMessage());
      }
    }

    /**
     * The row with the datagrams the rules saw and dropped since {@link #start}; a row whose loss
     * cannot be shown to have been applied fails, rather than pass for a figure under loss.
     */
    Row finish(Row row) {
      LoopbackLoss.Counts d;
      try {
        if (before == null) {
          throw new IOException(failure);
        }
        d = loss.counts(port).minus(before);
      } catch (IOException e) {
        return row.ok() ? row.withError("not measured: the packet loss counters cannot be read: " + e.getMessage()) : row;
      }
      Row counted = row.withLossCounts(d.packets(), d.dropped());
      if (counted.ok() && d.packets() == 0) {
        return counted.withError("not measured: no UDP datagram of port " + port + " passed the loss rules, so no loss was applied");
      }
      return counted;
    }
  }

  /**
   * A transport whose client launches the server: the peer is a quiet {@link BenchServer} pinned
   * like the shared one, with a control socket of its own and the same executor, and the {@link SpawnedPeers} hook says
   * how the client's target makes the transport launch it.
   */
  private static Endpoint spawned(Endpoint e, int run, Placement placement, boolean directExecutor, Path dir) throws IOException {
    io.lpcbridge.transport.TransportProvider provider = io.lpcbridge.transport.Transports.providers().stream()
        .filter(p -> p.name().equals(e.transport())).findFirst()
        .orElseThrow(() -> new IOException("transport " + e.transport() + " disappeared from the class path"));
    SpawnedPeers hook = SpawnedPeers.find(provider).orElseThrow(() -> new IOException("no SpawnedPeers hook for " + e.transport()));
    Path control = dir.resolve("control-" + e.id() + "-" + run + "-" + placement.name() + ".sock");
    List<String> args = new ArrayList<>(List.of("--quiet", "--control", control.toString(), "--listen", e.toSpec()));
    if (directExecutor) {
      args.add("--direct-executor"); // as the shared server: the spawned one hosts the same service
    }
    List<String> peer = Jvm.command(placement.prefix(false), BenchServer.class, args);
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
