package io.lpcbridge.bench;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * What a {@code bridge bench} run measures: the endpoints (every available transport, discovered
 * through {@link Transports#report()} and {@link TransportProvider#loopbackTargets}, each with its
 * raw floor, plus the stock-gRPC and plain-socket references) and the scenario grid.
 */
final class BenchPlan {
  /**
   * The transport option that names an idle strategy (shm: spin, block...). A transport that lists
   * it in {@link TransportProvider#supportedOptions()} is measured once per strategy given with
   * {@code --idle}, and every row records the strategy.
   */
  static final String IDLE_OPTION = "idle";

  /** One cell of the grid, before it is applied to the endpoints. */
  record Cell(Kind kind, Mode mode, int size, int concurrency) {}

  private BenchPlan() {}

  /**
   * The endpoints to serve and call. Sockets and files go under {@code scratch}, one directory per
   * endpoint so that two listeners of one transport never share a name.
   *
   * @param transports SPI transport names to include (empty: all)
   * @param stacks the stacks to include
   * @param idles idle strategies for transports that have the {@value #IDLE_OPTION} option (empty:
   *     the transport's default)
   * @param notes where skipped transports are reported, with why
   */
  static List<Endpoint> endpoints(Path scratch, Set<String> transports, Set<Stack> stacks, List<String> idles, Consumer<String> notes) {
    List<Endpoint> out = new ArrayList<>();
    for (Transports.Report r : Transports.report()) {
      TransportProvider p = r.provider();
      if (p.capabilities().contains(Capability.NATIVE_RPC)) {
        if (stacks.contains(Stack.GRPC)) {
          for (Target t : p.loopbackTargets(dir(scratch, "grpc"))) {
            String family = t.scheme().endsWith("unix") ? "unix" : "tcp";
            out.add(new Endpoint("grpc-" + family, Stack.GRPC, family, t.toString(), Map.of(), "-", false, null));
          }
        }
        continue;
      }
      if (!transports.isEmpty() && !transports.contains(p.name())) {
        continue;
      }
      if (!r.available()) {
        notes.accept("skipping " + p.name() + ": unavailable here (" + r.cause().map(Throwable::getMessage).orElse("no reason given") + ")");
        continue;
      }
      if (p.capabilities().contains(Capability.SPAWNS_PEER)) {
        java.util.Optional<SpawnedPeers> hook = SpawnedPeers.find(p);
        if (hook.isEmpty()) {
          notes.accept("skipping " + p.name() + ": its client spawns its server, and no SpawnedPeers hook for it is on the class path");
          continue;
        }
        for (Stack stack : List.of(Stack.BRIDGE, Stack.RAW)) {
          if (stacks.contains(stack)) {
            out.add(new Endpoint(stack.label() + "-" + p.name(), stack, p.name(), hook.get().childTarget(p), Map.of(), "-", true, null));
          }
        }
        continue;
      }
      boolean hasIdle = p.supportedOptions().contains(IDLE_OPTION);
      List<String> strategies = hasIdle && !idles.isEmpty() ? idles : List.of(hasIdle ? "default" : "-");
      for (Stack stack : List.of(Stack.BRIDGE, Stack.RAW)) {
        if (!stacks.contains(stack)) {
          continue;
        }
        for (String idle : strategies) {
          String base = stack.label() + "-" + p.name() + (idle.equals("-") || idle.equals("default") ? "" : "-" + idle);
          List<Target> targets = p.loopbackTargets(dir(scratch, base));
          if (targets.isEmpty()) {
            notes.accept("skipping " + stack.label() + "/" + p.name() + ": the transport offers no loopback target");
            break;
          }
          for (Target t : targets) {
            String transport = targets.size() == 1 ? p.name() : t.scheme();
            Map<String, String> options = new LinkedHashMap<>();
            if (!idle.equals("-") && !idle.equals("default")) {
              options.put(IDLE_OPTION, idle);
            }
            String id = targets.size() == 1 ? base : base + "-" + t.scheme().replaceAll("[^a-z0-9]", "-");
            out.add(new Endpoint(id, stack, transport, t.toString(), Map.copyOf(options), idle, false, null));
          }
        }
      }
    }
    if (stacks.contains(Stack.SOCKET)) {
      out.add(new Endpoint("socket-tcp", Stack.SOCKET, "tcp", "tcp://127.0.0.1:0", Map.of(), "-", false, null));
      out.add(new Endpoint("socket-unix", Stack.SOCKET, "unix", "unix://" + dir(scratch, "socket").resolve("socket.sock"), Map.of(), "-", false, null));
    }
    return out;
  }

  private static Path dir(Path scratch, String name) {
    try {
      return Files.createDirectories(scratch.resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The cartesian grid of kinds, sizes, concurrencies and modes, keeping only meaningful cells:
   * fixed rate is for unary with one call in flight, right after its closed-loop cell.
   */
  static List<Cell> grid(List<Kind> kinds, List<Integer> sizes, List<Integer> concurrency, List<Mode> modes) {
    List<Cell> cells = new ArrayList<>();
    for (Kind k : kinds) {
      for (int size : sizes) {
        for (int c : concurrency) {
          if (modes.contains(Mode.CLOSED) || (k == Kind.UNARY && c == 1)) {
            cells.add(new Cell(k, Mode.CLOSED, size, c));
          }
          if (modes.contains(Mode.FIXED) && k == Kind.UNARY && c == 1) {
            cells.add(new Cell(k, Mode.FIXED, size, c));
          }
        }
      }
    }
    return cells;
  }

  /**
   * The scenarios of one endpoint. Floors skip bidi (a bidi exchange's floor is the echo of the
   * unary row); the socket floor runs one exchange in flight, and raw streams one stream (one
   * stream already saturates a connection).
   */
  static List<Scenario> scenarios(Endpoint e, List<Cell> cells, double rateFraction, long warmupMillis, long measureMillis) {
    List<Scenario> out = new ArrayList<>();
    for (Cell c : cells) {
      if (e.stack().isFloor() && c.kind() == Kind.BIDI) {
        continue;
      }
      if (e.stack() == Stack.SOCKET && c.concurrency() != 1) {
        continue;
      }
      if (e.stack() == Stack.RAW && !c.kind().isLatency() && c.concurrency() != 1) {
        continue;
      }
      out.add(new Scenario(e.id(), c.kind(), c.mode(), c.size(), c.concurrency(), rateFraction, warmupMillis, measureMillis));
    }
    return out;
  }
}
