package io.lpcbridge.bench;

import java.util.List;
import java.util.Map;

/** Hand-made result rows, split placement, for the goal tests. */
final class TestRows {
  static final String SPLIT = "split(c0/s1)";

  private TestRows() {}

  /**
   * A unary 64 B row of {@code series} ("stack/transport[options]") with this p50 in µs (p90 the
   * same, p99 2×, p99.9 3×, max 4×) and {@code wakeups} per call, half on each side.
   */
  static Row unary(int run, String series, double p50, double wakeups) {
    String[] p = series.split("/");
    return new Row(run, SPLIT, p[0], p[1], series, "t", "-", 0, 0, 0, "unary", "closed", 64, 1, 0, 1000, 1, p50, p50, p50 * 2, p50 * 3, p50 * 4,
        p50, 1e6 / p50, 0.064e6 / p50, 10, 10, wakeups / 2, wakeups / 2, wakeups, wakeups, 0, 0, Map.of(), Map.of(), null);
  }

  /** A server-stream 1 KiB row of {@code series} at this rate, with {@code loss} percent injected. */
  static Row stream(int run, String series, int loss, double perSecond) {
    String[] p = Endpoint.lossFree(series).split("/");
    return new Row(run, SPLIT, p[0], p[1].replaceAll("\\[.*", ""), series, "t", "-", loss, loss == 0 ? 0 : 10_000, loss == 0 ? 0 : loss * 100L,
        "server-stream", "closed", 1024, 1, 0, 1000, 1, null, null, null, null, null, null, perSecond, perSecond * 1024 / 1e6, 1, 1, 0, 0,
        0, 0, 0, 0, Map.of(), Map.of(), null);
  }

  static Goal goal(List<Goal> goals, String prefix) {
    return goals.stream().filter(g -> g.name().startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(prefix + " in " + goals));
  }
}
