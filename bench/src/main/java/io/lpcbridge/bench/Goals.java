package io.lpcbridge.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The goals of issue 6, and those of the udp (issue 5) and shm (issue 3) transports that one run
 * of unary 64 B and server-stream 1 KiB can judge, on a {@link Summary}.
 */
final class Goals {
  static final int LATENCY_SIZE = 64;
  static final int STREAM_SIZE = 1024;
  static final double OVERHEAD_LIMIT = 1.3;
  static final double OVERHEAD_LIMIT_SPIN = 3.0;
  static final double UNIX_SPEEDUP = 2.0;
  static final double TCP_SPEEDUP = 1.3;
  static final double SHM_SPEEDUP = 30.0;
  static final double STREAM_MESSAGES = 1_000_000;
  /** Server-streaming 1 KiB over shm, messages per second, at least (issue 3). */
  static final double SHM_STREAM_MESSAGES = 4_000_000;
  /** The same over the raw ring's own rate with the same idle strategy, at least (issue 3). */
  static final double SHM_STREAM_SHARE = 0.4;
  /** bridge/udp's unary p50 over the plain UDP ping-pong's (socket/udp), at most. */
  static final double UDP_OVERHEAD_LIMIT = 1.3;
  /** The loss of the udp throughput goal, in percent each way ({@code --loss}). */
  static final int LOSS_PERCENT = 10;
  /** The share of its loss-free server-streaming throughput bridge/udp keeps under that loss, at least. */
  static final double LOSS_THROUGHPUT = 0.3;

  private Goals() {}

  /** Whether a goal reads the rows of {@code cell}: those are the ones measured in every run. */
  static boolean reads(BenchPlan.Cell cell) {
    return cell.mode() == Mode.CLOSED && cell.concurrency() == 1
        && ((cell.kind() == Kind.UNARY && cell.size() == LATENCY_SIZE) || (cell.kind() == Kind.SERVER_STREAM && cell.size() == STREAM_SIZE));
  }

  static boolean busySpin(String idle) {
    String i = idle.toLowerCase(Locale.ROOT);
    return i.contains("spin") || i.contains("busy");
  }

  static List<Goal> judge(Summary s) {
    return judge(s, null);
  }

  /**
   * @param lossSkipped why no run with packet loss was made (no {@code --loss}, or nftables
   *     unusable here), for the loss goal's SKIP; null when runs with loss were asked for and made
   */
  static List<Goal> judge(Summary s, String lossSkipped) {
    List<Goal> goals = new ArrayList<>();
    for (String placement : s.placements()) {
      boolean split = placement.startsWith("split");
      List<Agg> unary = s.aggs().stream()
          .filter(a -> a.placement().equals(placement) && a.ok() && a.loss() == 0 && a.is("unary", LATENCY_SIZE, 1, "closed")).toList();
      // Thread hops: the bridge against stock gRPC on the same socket family (others against gRPC over TCP).
      for (Agg b : unary) {
        if (!b.stack().equals("bridge")) {
          continue;
        }
        Optional<Agg> g = s.agg(placement, b.grpc(), "unary", LATENCY_SIZE, 1, "closed");
        if (g.isEmpty() || b.hops() == null || g.get().hops() == null) {
          goals.add(Goal.skip("thread hops " + b.series() + " vs " + b.grpc(), placement, "needs bridge, grpc and both floors measured"));
          continue;
        }
        List<Double> diff = s.perRunValues(b, r -> s.sibling(r, b.floor(), "unary").flatMap(f ->
            s.sibling(r, g.get().series(), "unary").flatMap(gr -> s.sibling(r, g.get().floor(), "unary")
                .map(gf -> (gr.wakeups() - gf.wakeups()) - (r.wakeups() - f.wakeups())))));
        String detail = String.format(Locale.ROOT,
            "hand-offs per unary call, client+server, above each one's floor: %s %.2f (%.2f wake-ups), %s %.2f (%.2f wake-ups)",
            b.series(), b.hops(), b.wakeups(), g.get().series(), g.get().hops(), g.get().wakeups());
        goals.add(Goal.judge("thread hops " + b.series() + " fewer than " + g.get().series(), placement, diff, 0.5, true, "", detail
            + "; PASS when the bridge makes at least half a hand-off per call fewer than stock gRPC"));
      }
      // RPC overhead over the raw floor, beside what stock gRPC costs with no transport at all.
      String inProcess = s.agg(placement, "grpc/" + BenchPlan.INPROCESS, "unary", LATENCY_SIZE, 1, "closed").filter(Agg::ok)
          .map(a -> String.format(Locale.ROOT, "; stock gRPC in one process, no transport (%s) p50 %.1f µs", a.series(), a.p50())).orElse("");
      for (Agg b : unary) {
        if (!b.stack().equals("bridge")) {
          continue;
        }
        boolean spin = busySpin(b.idle());
        double limit = spin ? OVERHEAD_LIMIT_SPIN : OVERHEAD_LIMIT;
        String name = "RPC overhead " + b.series() + " p50 <= " + limit + "x its raw floor";
        if (spin && !split) {
          goals.add(Goal.skip(name, placement, "a busy-spinning transport needs one vCPU per side: judged in the split placement"));
          continue;
        }
        Optional<Agg> f = s.agg(placement, b.floor(), "unary", LATENCY_SIZE, 1, "closed");
        List<Double> per = s.perRunValues(b, r -> s.sibling(r, b.floor(), "unary").map(fr -> r.p50() / fr.p50()));
        goals.add(Goal.judge(name, placement, per, limit, false, "x",
            f.map(fl -> String.format(Locale.ROOT, "%s p50 %.1f µs, %s p50 %.1f µs%s", b.series(), b.p50(), fl.series(), fl.p50(), inProcess))
                .orElse("no raw floor measured for " + b.series())));
      }
      // Against stock gRPC.
      speedup(goals, s, placement, "bridge/unix", "grpc/unix", UNIX_SPEEDUP, split ? null : "the goal is for the split placement");
      speedup(goals, s, placement, "bridge/tcp", "grpc/tcp", TCP_SPEEDUP, null);
      // The same over tcp's other engines, where measured (--io).
      unary.stream().filter(a -> a.stack().equals("bridge") && a.transport().equals("tcp") && !a.series().equals("bridge/tcp"))
          .forEach(a -> speedup(goals, s, placement, a.series(), "grpc/tcp", TCP_SPEEDUP, null));
      Optional<Agg> shm = unary.stream().filter(a -> a.stack().equals("bridge") && a.transport().equals("shm"))
          .min(java.util.Comparator.comparingDouble(Agg::p50));
      if (shm.isEmpty()) {
        goals.add(Goal.skip("bridge/shm p50 >= " + SHM_SPEEDUP + "x faster than grpc/tcp", placement, "shm was not measured (transport not on the class path or unavailable)"));
      } else {
        speedup(goals, s, placement, shm.get().series(), "grpc/tcp", SHM_SPEEDUP, split ? null : "the goal is for the split placement (a spinning side needs its own vCPU)");
      }
      // Server-streaming throughput over unix.
      String name = "server-stream 1 KiB over bridge/unix >= 1,000,000 msg/s";
      Optional<Agg> st = s.agg(placement, "bridge/unix", "server-stream", STREAM_SIZE, 1, "closed").filter(Agg::ok);
      if (st.isEmpty()) {
        goals.add(Goal.skip(name, placement, "server-stream 1 KiB over bridge/unix was not measured"));
      } else {
        Function<String, String> floor = series -> s.agg(placement, series, "server-stream", STREAM_SIZE, 1, "closed").filter(Agg::ok)
            .map(a -> String.format(Locale.ROOT, "%s %,.0f msg/s", series, a.opsPerSec())).orElse(series + " not measured");
        List<Double> per = s.perRunValues(st.get(), r -> Optional.of(r.opsPerSec() / STREAM_MESSAGES));
        goals.add(Goal.judge(name, placement, per, 1.0, true, "x",
            String.format(Locale.ROOT, "bridge/unix %,.0f msg/s (%.0f MB/s); floors: %s, %s", st.get().opsPerSec(), st.get().mbPerSec(),
                floor.apply("raw/unix"), floor.apply("socket/unix"))));
      }
      shmStreaming(goals, s, placement, split);
      udpOverhead(goals, s, placement, unary);
      udpLoss(goals, s, placement, lossSkipped);
    }
    return goals;
  }

  /**
   * Server-streaming 1 KiB over each bridge/shm series: at least {@link #SHM_STREAM_MESSAGES} msg/s,
   * and at least {@link #SHM_STREAM_SHARE} of the raw ring with the same idle strategy, taken
   * within each run. Judged in the split placement: a spinning side needs its own vCPU.
   */
  private static void shmStreaming(List<Goal> goals, Summary s, String placement, boolean split) {
    List<Agg> shm = s.aggs().stream()
        .filter(a -> a.placement().equals(placement) && a.stack().equals("bridge") && a.transport().equals("shm") && a.ok()
            && a.is("server-stream", STREAM_SIZE, 1, "closed"))
        .toList();
    for (Agg b : shm) {
      String rate = String.format(Locale.ROOT, "server-stream 1 KiB over %s >= %,.0f msg/s", b.series(), SHM_STREAM_MESSAGES);
      String share = "server-stream 1 KiB over " + b.series() + " >= " + SHM_STREAM_SHARE + "x its raw floor";
      if (!split) {
        goals.add(Goal.skip(rate, placement, "judged in the split placement"));
        goals.add(Goal.skip(share, placement, "judged in the split placement"));
        continue;
      }
      goals.add(Goal.judge(rate, placement, s.perRunValues(b, r -> Optional.of(r.opsPerSec() / SHM_STREAM_MESSAGES)), 1.0, true,
          "x", String.format(Locale.ROOT, "%s %,.0f msg/s (%.0f MB/s)", b.series(), b.opsPerSec(), b.mbPerSec())));
      Optional<Agg> f = s.agg(placement, b.floor(), "server-stream", STREAM_SIZE, 1, "closed").filter(Agg::ok);
      if (f.isEmpty()) {
        goals.add(Goal.skip(share, placement, "no raw floor measured for " + b.series()));
        continue;
      }
      List<Double> per = s.perRunValues(b, r -> s.sibling(r, b.floor(), "server-stream").map(fr -> r.opsPerSec() / fr.opsPerSec()));
      goals.add(Goal.judge(share, placement, per, SHM_STREAM_SHARE, true, "x", String.format(Locale.ROOT,
          "%s %,.0f msg/s, %s %,.0f msg/s (medians over runs; the ratio is taken within each run)", b.series(), b.opsPerSec(),
          f.get().series(), f.get().opsPerSec())));
    }
  }

  /** bridge/udp's unary 64 B p50 over the plain UDP ping-pong's (socket/udp), per run. */
  private static void udpOverhead(List<Goal> goals, Summary s, String placement, List<Agg> unary) {
    String socket = "socket/" + BenchPlan.LOSS_TRANSPORT;
    List<Agg> udp = unary.stream().filter(a -> a.stack().equals("bridge") && a.transport().equals(BenchPlan.LOSS_TRANSPORT)).toList();
    if (udp.isEmpty()) {
      goals.add(Goal.skip("udp: bridge/udp unary 64 B p50 <= " + UDP_OVERHEAD_LIMIT + "x " + socket + " (raw UDP ping-pong)", placement,
          "bridge/udp unary 64 B was not measured (udp not among --transports, or bridge not among --stacks)"));
      return;
    }
    for (Agg b : udp) {
      String name = "udp: " + b.series() + " unary 64 B p50 <= " + UDP_OVERHEAD_LIMIT + "x " + socket + " (raw UDP ping-pong)";
      Optional<Agg> f = s.agg(placement, socket, "unary", LATENCY_SIZE, 1, "closed").filter(Agg::ok);
      List<Double> per = s.perRunValues(b, r -> s.sibling(r, socket, "unary").map(fr -> r.p50() / fr.p50()));
      String raw = s.agg(placement, b.floor(), "unary", LATENCY_SIZE, 1, "closed").filter(Agg::ok)
          .map(r -> String.format(Locale.ROOT, "; %s (no RPC layer) p50 %.1f µs", r.series(), r.p50())).orElse("");
      goals.add(Goal.judge(name, placement, per, UDP_OVERHEAD_LIMIT, false, "x",
          f.map(fl -> String.format(Locale.ROOT, "%s p50 %.1f µs, %s p50 %.1f µs%s", b.series(), b.p50(), fl.series(), fl.p50(), raw))
              .orElse(socket + " unary 64 B was not measured in this run (it needs the socket stack)")));
    }
  }

  /**
   * bridge/udp's server-streaming throughput under {@value #LOSS_PERCENT}% loss over the same
   * endpoint's without loss, per run: at 1 KiB with one stream, else the first server-stream cell
   * measured under that loss. One goal per engine measured under loss.
   */
  private static void udpLoss(List<Goal> goals, Summary s, String placement, String lossSkipped) {
    String name = "udp server-stream throughput under " + LOSS_PERCENT + "% loss >= " + Math.round(LOSS_THROUGHPUT * 100) + "% of loss-free";
    List<Agg> lossy = s.aggs().stream()
        .filter(a -> a.placement().equals(placement) && a.ok() && a.loss() == LOSS_PERCENT && a.kind().equals("server-stream")
            && a.stack().equals("bridge") && a.transport().equals(BenchPlan.LOSS_TRANSPORT))
        .toList();
    if (lossy.isEmpty()) {
      String failed = s.aggs().stream()
          .filter(a -> a.placement().equals(placement) && !a.ok() && a.loss() == LOSS_PERCENT && a.kind().equals("server-stream"))
          .map(a -> a.series() + " " + Sizes.format(a.size()) + " x" + a.concurrency() + ": " + a.error()).findFirst().orElse(null);
      goals.add(Goal.skip(name, placement, failed != null ? "not measured: " + failed
          : lossSkipped != null ? lossSkipped
          : "bridge/udp server-stream under " + LOSS_PERCENT + "% loss was not measured (it takes --loss=" + LOSS_PERCENT + ")"));
      return;
    }
    // One goal per series under loss: bridge/udp and each other engine measured (bridge/udp[io=jdk]).
    for (String series : lossy.stream().map(Agg::series).distinct().toList()) {
      List<Agg> mine = lossy.stream().filter(x -> x.series().equals(series)).toList();
      Agg a = mine.stream().filter(x -> x.size() == STREAM_SIZE && x.concurrency() == 1).findFirst().orElse(mine.getFirst());
      String free = Endpoint.lossFree(a.series());
      String named = lossy.size() == mine.size() ? name : name.replace("udp server-stream", free + " server-stream");
      String cell = "server-stream " + Sizes.format(a.size()) + " x" + a.concurrency();
      Optional<Agg> f = s.agg(placement, free, "server-stream", a.size(), a.concurrency(), a.mode()).filter(Agg::ok);
      List<Double> per = s.perRunValues(a, r -> s.sibling(r, free, "server-stream").map(fr -> r.opsPerSec() / fr.opsPerSec()));
      if (per.isEmpty()) {
        goals.add(Goal.skip(named, placement, "its loss-free sibling " + free + " " + cell + " was not measured in the same run: "
            + f.map(x -> "no run has both").orElse("it failed or was left out")));
        continue;
      }
      goals.add(Goal.judge(named, placement, per, LOSS_THROUGHPUT, true, "x", String.format(Locale.ROOT,
          "%s: %s %,.0f msg/s, %s %,.0f msg/s; nft dropped %s", cell, a.series(), a.opsPerSec(), free, f.map(Agg::opsPerSec).orElse(0.0),
          Tables.dropped(a))));
    }
  }

  private static void speedup(List<Goal> goals, Summary s, String placement, String bridge, String grpc, double limit, String skip) {
    String name = bridge + " p50 >= " + limit + "x faster than " + grpc;
    if (skip != null) {
      goals.add(Goal.skip(name, placement, skip));
      return;
    }
    Optional<Agg> b = s.agg(placement, bridge, "unary", LATENCY_SIZE, 1, "closed").filter(Agg::ok);
    Optional<Agg> g = s.agg(placement, grpc, "unary", LATENCY_SIZE, 1, "closed").filter(Agg::ok);
    if (b.isEmpty() || g.isEmpty()) {
      goals.add(Goal.skip(name, placement, (b.isEmpty() ? bridge : grpc) + " unary 64 B was not measured"));
      return;
    }
    List<Double> per = s.perRunValues(b.get(), r -> s.sibling(r, grpc, "unary").map(gr -> gr.p50() / r.p50()));
    goals.add(Goal.judge(name, placement, per, limit, true, "x",
        String.format(Locale.ROOT, "%s p50 %.1f µs, %s p50 %.1f µs", bridge, b.get().p50(), grpc, g.get().p50())));
  }
}
