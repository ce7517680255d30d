package io.lpcbridge.bench;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The summary's tables, shared by the terminal, the Markdown summary and the HTML report. */
final class Tables {
  private Tables() {}

  /** Unary round trips of one size and concurrency, closed loop, every series. */
  static Terminal.Table latency(Summary s, String placement, int size, int concurrency) {
    Terminal.Table t = new Terminal.Table(
        "SERIES", "P50 µs>", "P99 µs>", "P99.9 µs>", "MAX µs>", "CALLS/S>", "CPU µs/CALL C+S>", "WAKE-UPS/CALL>", "HOPS>", "X FLOOR>", "X FASTER THAN GRPC>");
    for (Agg a : s.aggs()) {
      if (!a.placement().equals(placement) || !a.is("unary", size, concurrency, "closed")) {
        continue;
      }
      if (!a.ok()) {
        t.row(a.series(), "error: " + a.error(), "", "", "", "", "", "", "", "", "");
        continue;
      }
      t.row(a.series(), f1(a.p50()), f1(a.p99()), f1(a.p999()), f1(a.max()), num(a.opsPerSec()),
          f1(a.cpuClient()) + "+" + f1(a.cpuServer()), f2(a.wakeupsClient()) + "+" + f2(a.wakeupsServer()),
          f2(a.hops()), x(a.vsFloor()), x(a.vsGrpc()));
    }
    return t;
  }

  /** One streaming kind at one size and concurrency, every series. */
  static Terminal.Table throughput(Summary s, String placement, String kind, int size, int concurrency) {
    Terminal.Table t = new Terminal.Table("SERIES", "MSG/S>", "MB/S>", "CPU µs/MSG C+S>", "X FLOOR>", "X FASTER THAN GRPC>");
    for (Agg a : s.aggs()) {
      if (!a.placement().equals(placement) || !a.is(kind, size, concurrency, "closed") || a.loss() > 0) {
        continue;
      }
      if (!a.ok()) {
        t.row(a.series(), "error: " + a.error(), "", "", "", "");
        continue;
      }
      t.row(a.series(), num(a.opsPerSec()), f1(a.mbPerSec()), f2(a.cpuClient()) + "+" + f2(a.cpuServer()), x(a.vsFloor()), x(a.vsGrpc()));
    }
    return t;
  }

  /**
   * Every row measured under injected packet loss ({@code --loss}) in one placement, beside the same
   * endpoint without loss, with the loss nftables actually applied.
   */
  static Terminal.Table loss(Summary s, String placement) {
    Terminal.Table t = new Terminal.Table(
        "SERIES", "KIND", "SIZE>", "IN FLIGHT>", "MSG/S>", "LOSS-FREE MSG/S>", "X LOSS-FREE>", "DROPPED BY NFT (BOTH WAYS)>");
    for (Agg a : s.aggs()) {
      if (!a.placement().equals(placement) || a.loss() == 0) {
        continue;
      }
      if (!a.ok()) {
        t.row(a.series(), a.kind(), Sizes.format(a.size()), a.concurrency(), "error: " + a.error(), "", "", "");
        continue;
      }
      String free = s.agg(placement, Endpoint.lossFree(a.series()), a.kind(), a.size(), a.concurrency(), a.mode()).filter(Agg::ok)
          .map(f -> num(f.opsPerSec())).orElse("not measured");
      t.row(a.series(), a.kind(), Sizes.format(a.size()), a.concurrency(), num(a.opsPerSec()), free, x(a.vsLossFree()), dropped(a));
    }
    return t;
  }

  /** {@code 1,234 of 12,345 (10.0%)}: the datagrams the loss rules dropped, of those they saw. */
  static String dropped(Agg a) {
    return String.format(Locale.ROOT, "%,d of %,d (%s)", a.lossDropped(), a.lossPackets(),
        a.lossApplied() == null ? "none counted" : String.format(Locale.ROOT, "%.1f%%", a.lossApplied()));
  }

  /** Every summary row. */
  static Terminal.Table all(Summary s) {
    Terminal.Table t = new Terminal.Table(
        "PLACEMENT", "SERIES", "KIND", "MODE", "SIZE>", "IN FLIGHT>", "RUNS>", "P50 µs>", "P99 µs>", "P99.9 µs>", "MAX µs>",
        "OPS/S>", "MB/S>", "CPU µs/OP C+S>", "WAKE-UPS/OP>", "HOPS>", "X FLOOR>", "X GRPC>");
    for (Agg a : s.aggs()) {
      if (!a.ok()) {
        t.row(a.placement(), a.series(), a.kind(), a.mode(), Sizes.format(a.size()), a.concurrency(), 0, "error: " + a.error(),
            "", "", "", "", "", "", "", "", "", "");
        continue;
      }
      t.row(a.placement(), a.series(), a.kind(), a.mode(), Sizes.format(a.size()), a.concurrency(), a.runs(), f1(a.p50()), f1(a.p99()),
          f1(a.p999()), f1(a.max()), num(a.opsPerSec()), f1(a.mbPerSec()), f2(a.cpuClient()) + "+" + f2(a.cpuServer()),
          f2(a.wakeups()), f2(a.hops()), x(a.vsFloor()), x(a.vsGrpc()));
    }
    return t;
  }

  static Terminal.Table goals(List<Goal> goals) {
    Terminal.Table t = new Terminal.Table("", "GOAL", "PLACEMENT", "MEDIAN>", "PER RUN", "DETAIL");
    for (Goal g : goals) {
      t.row(g.verdict(), g.name(), g.placement(), g.measured() == null ? "-" : f2(g.measured()) + g.unit(),
          g.perRun().stream().map(Tables::f2).collect(Collectors.joining(" ")), g.detail());
    }
    return t;
  }

  static String f1(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.1f", v);
  }

  static String f2(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  static String x(Double v) {
    return v == null ? "-" : String.format(Locale.ROOT, "%.2fx", v);
  }

  static String num(double v) {
    return String.format(Locale.ROOT, "%,.0f", v);
  }
}
