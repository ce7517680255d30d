package io.lpcbridge.bench;

import static io.lpcbridge.bench.TestRows.goal;
import static io.lpcbridge.bench.TestRows.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Issue 3's streaming goals over shm, judged per idle strategy against the ring with the same one. */
class ShmGoalsTest {

  @Test
  void eachIdleStrategyIsJudgedAgainstItsOwnRingWithinEachRun() {
    List<Row> rows = new ArrayList<>();
    // Run 1: the ring fast, the bridge at 0.35 of it; run 2: both slow, 0.98; run 3: 0.45.
    double[][] defaults = {{7_000_000, 20_000_000}, {4_100_000, 4_200_000}, {8_100_000, 18_000_000}};
    for (int run = 1; run <= 3; run++) {
      rows.add(stream(run, "bridge/shm[idle=default]", 0, defaults[run - 1][0]));
      rows.add(stream(run, "raw/shm[idle=default]", 0, defaults[run - 1][1]));
      rows.add(stream(run, "bridge/shm[idle=spin]", 0, 3_000_000));
      rows.add(stream(run, "raw/shm[idle=spin]", 0, 4_000_000));
    }
    List<Goal> goals = Goals.judge(new Summary(rows));

    Goal share = goal(goals, "server-stream 1 KiB over bridge/shm[idle=default] >= 0.4x its raw floor");
    assertEquals("PASS", share.verdict(), share.toString());
    assertEquals(List.of(0.35, 4_100_000 / 4_200_000.0, 0.45), share.perRun());
    assertEquals(0.45, share.measured(), 1e-9);
    Goal rate = goal(goals, "server-stream 1 KiB over bridge/shm[idle=default] >= 4,000,000 msg/s");
    assertEquals("PASS", rate.verdict(), rate.toString());

    Goal spinShare = goal(goals, "server-stream 1 KiB over bridge/shm[idle=spin] >= 0.4x its raw floor");
    assertEquals("PASS", spinShare.verdict(), spinShare.toString());
    Goal spinRate = goal(goals, "server-stream 1 KiB over bridge/shm[idle=spin] >= 4,000,000 msg/s");
    assertEquals("FAIL", spinRate.verdict(), spinRate.toString());
    assertTrue(spinRate.detail().contains("short by 25%"), spinRate.detail());
  }

  @Test
  void withoutTheRingTheShareIsSkippedWithTheReason() {
    List<Goal> goals = Goals.judge(new Summary(List.of(stream(1, "bridge/shm[idle=default]", 0, 5_000_000))));
    Goal share = goal(goals, "server-stream 1 KiB over bridge/shm[idle=default] >= 0.4x");
    assertEquals("SKIP", share.verdict());
    assertTrue(share.detail().contains("no raw floor"), share.detail());
    assertEquals("PASS", goal(goals, "server-stream 1 KiB over bridge/shm[idle=default] >= 4,000,000").verdict());
  }
}
