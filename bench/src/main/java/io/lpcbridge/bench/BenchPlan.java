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
 * raw floor, plus the stock-gRPC and plain-socket references, and with {@code --loss} the udp
 * endpoints measured again under packet loss) and the scenario grid.
 */
final class BenchPlan {
  /**
   * The transport option that names an idle strategy (shm: spin, block...). A transport that lists
   * it in {@link TransportProvider#supportedOptions()} is measured once per strategy given with
   * {@code --idle}, and every row records the strategy.
   */
  static final String IDLE_OPTION = "idle";

  /**
   * The transport option that names an I/O engine (tcp, udp: Netty's event loops or {@code jdk}). A
   * transport that lists values for it in {@link TransportProvider#optionChoices} is measured once
   * per value given with {@code --io} that it offers ({@code default}: without the option), and its
   * series are named {@code bridge/tcp[io=jdk]}.
   */
  static final String IO_OPTION = "io";

  /**
   * The transport of the grpc/inprocess reference: stock grpc-java's in-process transport, server
   * and client both in the bench client's process, the server on a direct executor, the channel on
   * gRPC's default one. A blocking unary call then runs on the caller's thread from stub to service
   * and back: what stock gRPC's stubs and call machinery cost with no transport, no process
   * boundary and no thread hand-off. (Async calls and streams hand their callbacks to the channel's
   * executor, as gRPC does.) Its row has no floor.
   */
  static final String INPROCESS = "inprocess";

  /** The transport measured again under packet loss ({@code --loss}): the one whose datagrams can be lost. */
  static final String LOSS_TRANSPORT = "udp";

  /** Why socket/udp runs no stream: the reason printed with the skipped kinds. */
  static final String UDP_NO_STREAMS =
      "plain UDP has no reliability (a lost datagram is simply gone), so a stream over it measures nothing meaningful;"
          + " the udp transport's own reliability layer is in raw/udp";

  /** Why socket/udp runs no message over one datagram: the reason printed with the skipped sizes. */
  static final String UDP_TOO_LARGE =
      "the plain UDP ping-pong sends each message as one datagram, which carries at most " + SocketEchoServer.MAX_DATAGRAM + " bytes";

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
   * @param ios I/O engines for transports that list choices for {@value #IO_OPTION} ({@code
   *     default}: the transport's own; empty: only that)
   * @param notes where skipped transports are reported, with why
   * @return the endpoints; {@code socket-udp} (a plain UDP ping-pong) among them when the socket
   *     stack and the udp transport are both measured
   */
  static List<Endpoint> endpoints(
      Path scratch, Set<String> transports, Set<Stack> stacks, List<String> idles, List<String> ios, Consumer<String> notes) {
    List<Endpoint> out = new ArrayList<>();
    boolean udp = false;
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
      udp |= p.name().equals(LOSS_TRANSPORT);
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
      List<String> engines = engines(p, ios, notes);
      for (Stack stack : List.of(Stack.BRIDGE, Stack.RAW)) {
        if (!stacks.contains(stack)) {
          continue;
        }
        for (String io : engines) {
          for (String idle : strategies) {
            String base = stack.label() + "-" + p.name() + (io.equals("default") ? "" : "-io-" + io)
                + (idle.equals("-") || idle.equals("default") ? "" : "-" + idle);
            List<Target> targets = p.loopbackTargets(dir(scratch, base));
            if (targets.isEmpty()) {
              notes.accept("skipping " + stack.label() + "/" + p.name() + ": the transport offers no loopback target");
              break;
            }
            for (Target t : targets) {
              String transport = targets.size() == 1 ? p.name() : t.scheme();
              Map<String, String> options = new LinkedHashMap<>();
              if (!io.equals("default")) {
                options.put(IO_OPTION, io);
              }
              if (!idle.equals("-") && !idle.equals("default")) {
                options.put(IDLE_OPTION, idle);
              }
              String id = targets.size() == 1 ? base : base + "-" + t.scheme().replaceAll("[^a-z0-9]", "-");
              out.add(new Endpoint(id, stack, transport, t.toString(), Map.copyOf(options), idle, false, null));
            }
          }
        }
      }
    }
    if (stacks.contains(Stack.GRPC)) {
      out.add(new Endpoint("grpc-" + INPROCESS, Stack.GRPC, INPROCESS, INPROCESS + ":bench", Map.of(), "-", false, null));
    }
    if (stacks.contains(Stack.SOCKET)) {
      out.add(new Endpoint("socket-tcp", Stack.SOCKET, "tcp", "tcp://127.0.0.1:0", Map.of(), "-", false, null));
      out.add(new Endpoint("socket-unix", Stack.SOCKET, "unix", "unix://" + dir(scratch, "socket").resolve("socket.sock"), Map.of(), "-", false, null));
      if (udp) {
        out.add(new Endpoint("socket-udp", Stack.SOCKET, "udp", "udp://127.0.0.1:0", Map.of(), "-", false, null));
      }
    }
    return out;
  }

  /**
   * The engines of {@code ios} that {@code p} offers for {@value #IO_OPTION}, {@code default} first;
   * just {@code default} when it offers none. A value the transport does not offer is reported.
   */
  private static List<String> engines(TransportProvider p, List<String> ios, Consumer<String> notes) {
    List<String> choices = p.optionChoices(IO_OPTION);
    if (choices.isEmpty() || ios.isEmpty()) {
      return List.of("default");
    }
    List<String> out = new ArrayList<>();
    for (String io : ios) {
      if (io.equals("default") || io.equals(choices.getFirst())) {
        if (!out.contains("default")) {
          out.add("default");
        }
      } else if (choices.contains(io)) {
        out.add(io);
      } else {
        notes.accept("not measuring " + p.name() + " with io=" + io + ": it offers " + String.join(", ", choices));
      }
    }
    return out.isEmpty() ? List.of("default") : out;
  }

  /**
   * The endpoints, each bridge endpoint on {@value #LOSS_TRANSPORT} followed by one copy per loss
   * percentage ({@link Endpoint#withLoss}): a listener of its own, so that the loss rules can match
   * its port alone while the loss-free one is measured without loss in the same run.
   */
  static List<Endpoint> withLoss(List<Endpoint> endpoints, List<Integer> percents) {
    List<Endpoint> out = new ArrayList<>();
    for (Endpoint e : endpoints) {
      out.add(e);
      if (e.stack() == Stack.BRIDGE && e.transport().equals(LOSS_TRANSPORT) && !e.spawned() && e.loss() == 0) {
        percents.forEach(pct -> out.add(e.withLoss(pct)));
      }
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
   * stream already saturates a connection); an endpoint under packet loss runs server-streaming
   * only (the loss goal's figure). Besides, socket/udp runs no stream and no message over one
   * datagram ({@link #udpSkip}, reported by {@link #skipped}).
   */
  static List<Scenario> scenarios(Endpoint e, List<Cell> cells, double rateFraction, long warmupMillis, long measureMillis) {
    List<Scenario> out = new ArrayList<>();
    for (Cell c : cells) {
      if (leftOut(e, c) || udpSkip(e, c) != null) {
        continue;
      }
      out.add(new Scenario(e.id(), c.kind(), c.mode(), c.size(), c.concurrency(), rateFraction, warmupMillis, measureMillis));
    }
    return out;
  }

  /**
   * What one run measures, cell by cell and, within a cell, endpoint by endpoint in the order given:
   * a row and the floors and baseline it is compared with are measured within seconds of each
   * other, not minutes apart. Shared machines change speed from minute to minute (on the reference
   * machine the raw shm ring's round trip is 0.2 or 0.7 µs for minutes at a time), and a ratio
   * between windows measured in two different spells says more about the machine than the stack.
   * Within an endpoint, the cells keep their order (a fixed-rate cell follows its closed-loop one).
   */
  static List<Scenario> interleaved(List<Endpoint> endpoints, List<Cell> cells, double rateFraction, long warmupMillis, long measureMillis) {
    List<Scenario> out = new ArrayList<>();
    for (Cell c : cells) {
      for (Endpoint e : endpoints) {
        out.addAll(scenarios(e, List.of(c), rateFraction, warmupMillis, measureMillis));
      }
    }
    return out;
  }

  /** The cells an endpoint leaves out by design (see {@link #scenarios}); not worth a note. */
  private static boolean leftOut(Endpoint e, Cell c) {
    if (e.stack().isFloor() && c.kind() == Kind.BIDI) {
      return true;
    }
    if (e.stack() == Stack.SOCKET && c.concurrency() != 1) {
      return true;
    }
    if (e.stack() == Stack.RAW && !c.kind().isLatency() && c.concurrency() != 1) {
      return true;
    }
    return e.loss() > 0 && c.kind() != Kind.SERVER_STREAM;
  }

  /**
   * Why the plain UDP ping-pong cannot run a cell: {@link #UDP_NO_STREAMS} for the streaming kinds,
   * {@link #UDP_TOO_LARGE} for a message over one datagram; null when it can (or the endpoint is
   * not socket/udp).
   */
  static String udpSkip(Endpoint e, Cell c) {
    if (e.stack() != Stack.SOCKET || !e.transport().equals("udp")) {
      return null;
    }
    if (!c.kind().isLatency()) {
      return UDP_NO_STREAMS;
    }
    return Math.max(RawProtocol.MIN_SIZE, c.size()) > SocketEchoServer.MAX_DATAGRAM ? UDP_TOO_LARGE : null;
  }

  /**
   * The notes on cells some endpoint cannot run, one per endpoint and reason, e.g. {@code skipping
   * socket/udp server-stream, client-stream: plain UDP has no reliability...} or {@code skipping
   * socket/udp 64 KiB, 1 MiB: ... at most 65507 bytes}.
   */
  static List<String> skipped(List<Endpoint> endpoints, List<Cell> cells) {
    List<String> notes = new ArrayList<>();
    for (Endpoint e : endpoints) {
      Map<String, java.util.Set<String>> what = new LinkedHashMap<>();
      for (Cell c : cells) {
        String why = leftOut(e, c) ? null : udpSkip(e, c);
        if (why != null) {
          what.computeIfAbsent(why, k -> new java.util.LinkedHashSet<>()).add(why.equals(UDP_TOO_LARGE) ? Sizes.format(c.size()) : c.kind().label());
        }
      }
      what.forEach((why, cases) -> notes.add("skipping " + e.series() + " " + String.join(", ", cases) + ": " + why));
    }
    return notes;
  }
}
