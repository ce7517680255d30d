package io.lpcbridge.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Turns the rows of every run into the summary: medians over runs, and for each row its floor
 * ratio, its speed-up over stock gRPC and its extra hops, each computed within a run and then
 * taken as the median over runs.
 */
final class Summary {
  private final List<Row> rows;
  /** run to (key to row). */
  private final Map<Integer, Map<String, Row>> byRun = new LinkedHashMap<>();
  private final List<Agg> aggs = new ArrayList<>();

  Summary(List<Row> rows) {
    this.rows = rows;
    Map<String, List<Row>> byKey = new LinkedHashMap<>();
    for (Row r : rows) {
      byRun.computeIfAbsent(r.run(), k -> new LinkedHashMap<>()).put(r.key(), r);
      byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
    }
    byKey.values().forEach(group -> aggs.add(aggregate(group)));
  }

  List<Agg> aggs() {
    return aggs;
  }

  List<Row> rows() {
    return rows;
  }

  int runs() {
    return byRun.size();
  }

  private Agg aggregate(List<Row> group) {
    Row first = group.getFirst();
    List<Row> ok = group.stream().filter(Row::ok).toList();
    if (ok.isEmpty()) {
      return new Agg(first.placement(), first.series(), first.stack(), first.transport(), first.idle(), first.loss(), 0, 0, first.kind(),
          first.mode(), first.size(), first.concurrency(), 0, null, null, null, null, 0, 0, 0, 0, 0, 0, null, null, null, null, null, null,
          Map.of(), Map.of(), first.error());
    }
    Row middle = ok.stream().sorted(java.util.Comparator.comparingDouble(Row::opsPerSec)).toList().get(ok.size() / 2);
    String floor = floorSeries(first);
    String grpc = grpcSeries(first);
    String lossFree = first.loss() > 0 ? Endpoint.lossFree(first.series()) : null;
    return new Agg(
        first.placement(), first.series(), first.stack(), first.transport(), first.idle(), first.loss(),
        ok.stream().mapToLong(Row::lossPackets).sum(), ok.stream().mapToLong(Row::lossDropped).sum(), first.kind(), first.mode(),
        first.size(), first.concurrency(), ok.size(),
        medianOf(ok, Row::p50), medianOf(ok, Row::p99), medianOf(ok, Row::p999), medianOf(ok, Row::max),
        median(ok, Row::opsPerSec), median(ok, Row::mbPerSec),
        median(ok, Row::cpuClient), median(ok, Row::cpuServer),
        median(ok, Row::wakeupsClient), median(ok, Row::wakeupsServer),
        Kind.parse(first.kind()).isLatency() ? perRun(ok, r -> find(r, floor, true).map(f -> r.wakeups() - f.wakeups())) : null,
        perRun(ok, r -> find(r, floor, true).map(f -> cost(r) / cost(f))),
        perRun(ok, r -> find(r, grpc, false).map(g -> cost(g) / cost(r))),
        perRun(ok, r -> find(r, lossFree, false).map(f -> cost(f) / cost(r))),
        floor, grpc, middle.threadsClient(), middle.threadsServer(), null);
  }

  /** Time per op: p50 for latency kinds, 1/throughput for the others. */
  static double cost(Row r) {
    return r.p50() != null ? r.p50() : 1.0 / r.opsPerSec();
  }

  /**
   * The floor under a row: raw under bridge, plain sockets under grpc and raw (JDK datagrams under
   * raw/udp); null for sockets, and for a row with injected loss (its floors ran without).
   */
  static String floorSeries(Row r) {
    if (r.loss() > 0) {
      return null;
    }
    return switch (r.stack()) {
      case "bridge" -> "raw/" + r.series().substring("bridge/".length());
      case "grpc" -> r.transport().equals(BenchPlan.INPROCESS) ? null : "socket/" + r.transport();
      case "raw" -> SOCKET_FAMILIES.contains(r.transport()) ? "socket/" + r.transport() : null;
      default -> null;
    };
  }

  /** The socket families of the plain-socket floor ({@link SocketEchoServer}). */
  static final java.util.Set<String> SOCKET_FAMILIES = java.util.Set.of("tcp", "unix", "udp");

  /**
   * The stock-gRPC row a row is compared with: the same socket family, else gRPC over TCP; null for
   * a row with injected loss (stock gRPC ran without).
   */
  static String grpcSeries(Row r) {
    if (r.loss() > 0) {
      return null;
    }
    return r.transport().equals("unix") ? "grpc/unix" : "grpc/tcp";
  }

  /**
   * The row of {@code series} in the same run and placement with the same size and mode; bidi is
   * compared with the floor's echo (unary). For throughput kinds a floor measured with one stream
   * stands for any concurrency (one stream already fills the connection).
   */
  private java.util.Optional<Row> find(Row r, String series, boolean floor) {
    if (series == null) {
      return java.util.Optional.empty();
    }
    Map<String, Row> run = byRun.get(r.run());
    String kind = floor && r.kind().equals("bidi") && !series.startsWith("grpc/") ? "unary" : r.kind();
    Row f = run.get(r.placement() + "|" + series + "|" + kind + "|" + r.mode() + "|" + r.size() + "|" + r.concurrency());
    if (f == null && floor && !Kind.parse(r.kind()).isLatency()) {
      f = run.get(r.placement() + "|" + series + "|" + kind + "|" + r.mode() + "|" + r.size() + "|1");
    }
    return f != null && f.ok() ? java.util.Optional.of(f) : java.util.Optional.empty();
  }

  /** The median over runs of a per-run figure; null when no run has it. */
  private static Double perRun(List<Row> ok, Function<Row, java.util.Optional<Double>> f) {
    double[] v = ok.stream().map(f).filter(java.util.Optional::isPresent).mapToDouble(java.util.Optional::get).toArray();
    return v.length == 0 ? null : median(v);
  }

  /** Per-run values of a figure for the goal report. */
  List<Double> perRunValues(Agg a, Function<Row, java.util.Optional<Double>> f) {
    List<Double> out = new ArrayList<>();
    for (Map<String, Row> run : byRun.values()) {
      Row r = run.get(a.placement() + "|" + a.series() + "|" + a.kind() + "|" + a.mode() + "|" + a.size() + "|" + a.concurrency());
      if (r != null && r.ok()) {
        f.apply(r).ifPresent(out::add);
      }
    }
    return out;
  }

  /** The row of another series in the same run as {@code r}, for goals. */
  java.util.Optional<Row> sibling(Row r, String series, String kind) {
    Row f = byRun.get(r.run()).get(r.placement() + "|" + series + "|" + kind + "|" + r.mode() + "|" + r.size() + "|" + r.concurrency());
    return f != null && f.ok() ? java.util.Optional.of(f) : java.util.Optional.empty();
  }

  java.util.Optional<Agg> agg(String placement, String series, String kind, int size, int concurrency, String mode) {
    return aggs.stream()
        .filter(a -> a.placement().equals(placement) && a.series().equals(series) && a.is(kind, size, concurrency, mode))
        .findFirst();
  }

  List<String> placements() {
    return aggs.stream().map(Agg::placement).distinct().toList();
  }

  private static double median(List<Row> rows, ToDoubleFunction<Row> f) {
    return median(rows.stream().mapToDouble(f).toArray());
  }

  private static Double medianOf(List<Row> rows, Function<Row, Double> f) {
    double[] v = rows.stream().map(f).filter(Objects::nonNull).mapToDouble(Double::doubleValue).toArray();
    return v.length == 0 ? null : median(v);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int n = s.length;
    return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  }
}
