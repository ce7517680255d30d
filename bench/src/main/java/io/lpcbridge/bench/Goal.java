package io.lpcbridge.bench;

import java.util.List;

/**
 * One goal (see {@link Goals}), judged on the median over runs of a ratio taken within each run.
 *
 * @param verdict PASS, FAIL or SKIP (not measured in this run, with {@link #detail} saying why)
 * @param measured the median ratio (or count), null when skipped
 * @param limit the bound it is judged against
 * @param atLeast whether {@code measured} must be at least {@code limit} (else at most)
 * @param perRun the value of each run
 * @param detail the figures behind it, and for a FAIL by how much
 */
record Goal(String name, String placement, String verdict, Double measured, double limit, boolean atLeast, String unit, List<Double> perRun, String detail) {

  static Goal judge(String name, String placement, List<Double> perRun, double limit, boolean atLeast, String unit, String detail) {
    if (perRun.isEmpty()) {
      return skip(name, placement, detail);
    }
    double m = Summary.median(perRun.stream().mapToDouble(Double::doubleValue).toArray());
    boolean pass = atLeast ? m >= limit : m <= limit;
    String by = "";
    if (!pass) {
      by = atLeast
          ? String.format(java.util.Locale.ROOT, "; short by %.0f%% (%.2f%s of the %.2f%s asked)", 100 * (1 - m / limit), m, unit, limit, unit)
          : String.format(java.util.Locale.ROOT, "; over by %.0f%% (%.2f%s against at most %.2f%s)", 100 * (m / limit - 1), m, unit, limit, unit);
    }
    return new Goal(name, placement, pass ? "PASS" : "FAIL", m, limit, atLeast, unit, perRun, detail + by);
  }

  static Goal skip(String name, String placement, String why) {
    return new Goal(name, placement, "SKIP", null, 0, true, "", List.of(), why);
  }

  static Goal info(String name, String placement, String verdict, Double measured, String unit, List<Double> perRun, String detail) {
    return new Goal(name, placement, verdict, measured, 0, false, unit, perRun, detail);
  }
}
