package io.lpcbridge.bench;

import static io.lpcbridge.bench.TestRows.unary;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Medians, per-run ratios and goal verdicts on hand-made rows. */
class SummaryTest {
  private static final String SPLIT = TestRows.SPLIT;

  private static List<Row> threeRuns() {
    List<Row> rows = new ArrayList<>();
    double[][] unixP50 = {{50, 40}, {60, 40}, {100, 50}}; // bridge/unix, raw/unix per run
    for (int run = 1; run <= 3; run++) {
      rows.add(unary(run, "bridge/unix", unixP50[run - 1][0], 4));
      rows.add(unary(run, "raw/unix", unixP50[run - 1][1], 2));
      rows.add(unary(run, "grpc/unix", 200, 10));
      rows.add(unary(run, "socket/unix", 30, 2));
    }
    return rows;
  }

  @Test
  void ratiosAreTakenWithinARunThenTheMedianOverRuns() {
    Summary s = new Summary(threeRuns());
    Agg bridge = s.agg(SPLIT, "bridge/unix", "unary", 64, 1, "closed").orElseThrow();
    assertEquals(3, bridge.runs());
    assertEquals(60.0, bridge.p50());
    // Per run 1.25, 1.5, 2.0: the median is 1.5 (the ratio of the medians, 60/40, happens to agree here).
    assertEquals(1.5, bridge.vsFloor(), 1e-9);
    // grpc 200 over 50, 60, 100: 4, 3.33, 2.
    assertEquals(200.0 / 60, bridge.vsGrpc(), 1e-9);
    assertEquals(2.0, bridge.hops(), 1e-9);
    assertEquals("raw/unix", bridge.floor());
    assertNull(s.agg(SPLIT, "socket/unix", "unary", 64, 1, "closed").orElseThrow().vsFloor());
  }

  @Test
  void goalsSayPassOrFailAndByHowMuch() {
    List<Goal> goals = Goals.judge(new Summary(threeRuns()));
    Goal overhead = goals.stream().filter(g -> g.name().startsWith("RPC overhead bridge/unix")).findFirst().orElseThrow();
    assertEquals("FAIL", overhead.verdict());
    assertEquals(List.of(1.25, 1.5, 2.0), overhead.perRun());
    assertTrue(overhead.detail().contains("over by 15%"), overhead.detail());
    Goal unix = goals.stream().filter(g -> g.name().startsWith("bridge/unix p50 >= 2.0x")).findFirst().orElseThrow();
    assertEquals("PASS", unix.verdict());
    Goal hops = goals.stream().filter(g -> g.name().startsWith("thread hops bridge/unix")).findFirst().orElseThrow();
    assertEquals("PASS", hops.verdict());
    assertEquals(6.0, hops.measured(), 1e-9);
    assertTrue(goals.stream().anyMatch(g -> g.name().contains("shm") && g.verdict().equals("SKIP")));
  }

  @Test
  void stockGrpcInOneProcessHasNoFloorAndIsNamedBesideTheOverheadGoals() {
    List<Row> rows = new ArrayList<>(threeRuns());
    for (int run = 1; run <= 3; run++) {
      rows.add(unary(run, "grpc/" + BenchPlan.INPROCESS, 1.2 + run / 10.0, 0));
    }
    Summary s = new Summary(rows);
    Agg inProcess = s.agg(SPLIT, "grpc/inprocess", "unary", 64, 1, "closed").orElseThrow();
    assertNull(inProcess.floor());
    assertNull(inProcess.vsFloor());
    Goal overhead = TestRows.goal(Goals.judge(s), "RPC overhead bridge/unix");
    assertTrue(overhead.detail().contains("no transport (grpc/inprocess) p50 1.4 µs"), overhead.detail());
  }

  @Test
  void sizesAndThreadNames() {
    assertEquals(64, Sizes.parse("64"));
    assertEquals(1024, Sizes.parse("1k"));
    assertEquals(65536, Sizes.parse("64KiB"));
    assertEquals(1 << 20, Sizes.parse("1m"));
    assertEquals("64 KiB", Sizes.format(65536));
    assertEquals("bridge-default-executor", ProcessStats.group("bridge-default-executor-12"));
    assertEquals("GC Thread", ProcessStats.group("GC Thread#1"));
    assertEquals("main", ProcessStats.group("main"));
  }

  @Test
  void processStatsCountThisProcess() {
    ProcessStats a = ProcessStats.self();
    assertTrue(a.cpuNanos() > 0 && a.voluntary() >= 0, a.toString());
    assertTrue(!a.threads().isEmpty() && a.threads().keySet().stream().allMatch(k -> k.matches("\\d+ .+")), a.threads().toString());
  }

  @Test
  void wakeUpsOfAThreadThatEndedBetweenReadingsAreNotSubtracted() {
    ProcessStats before =
        new ProcessStats(0, 0, 0, java.util.Map.of("10 bridge-reader", 500L, "11 bridge-reader", 7L, "12 C2 CompilerThre", 9L), -1);
    ProcessStats after =
        new ProcessStats(0, 0, 0, java.util.Map.of("11 bridge-reader", 10L, "13 bridge-reader", 4L, "12 C2 CompilerThre", 90L), -1);
    assertEquals(java.util.Map.of("bridge-reader", 7L), ProcessStats.pathVoluntary(before, after));
  }
}
