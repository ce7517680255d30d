package io.lpcbridge.bench;

import com.google.gson.Gson;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The benchmark's client process: runs a {@link ClientPlan} against a {@link BenchServer} and
 * prints, on stdout, {@code progress I N LABEL} before each scenario and {@code row JSON} after it.
 *
 * <pre>
 * java ... io.lpcbridge.bench.BenchClient PLAN.json
 * </pre>
 */
public final class BenchClient {
  private static final Gson GSON = new Gson();
  /** How long the load of a stopped scenario may take to wind down before it is abandoned. */
  private static final long WIND_DOWN_NANOS = Duration.ofSeconds(10).toNanos();
  /** Per-thread wake-ups below this per op are left out of the breakdown. */
  private static final double THREAD_SHARE_SHOWN = 0.05;

  private BenchClient() {}

  public static void main(String[] args) throws Exception {
    KeepAwake.startIfAsked();
    exitWhenParentGoes();
    ClientPlan plan = GSON.fromJson(Files.readString(Path.of(args[0]), StandardCharsets.UTF_8), ClientPlan.class);
    PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    plan.endpoints().forEach(e -> endpoints.put(e.id(), e));
    Map<String, Double> closedRates = new HashMap<>();
    Map<String, Driver> drivers = new HashMap<>();
    Map<String, String> broken = new HashMap<>();
    java.util.Set<String> warmed = new java.util.HashSet<>();
    java.util.Set<Kind> warmedBaseline = java.util.EnumSet.noneOf(Kind.class);
    Map<String, Control.Client> peerControls = new HashMap<>();
    try (Control.Client control = Control.Client.connect(Path.of(plan.control()), Duration.ofSeconds(60))) {
      int i = 0;
      String previous = null;
      for (Scenario s : plan.scenarios()) {
        i++;
        Endpoint e = endpoints.get(s.endpoint());
        out.println("progress " + i + " " + plan.scenarios().size() + " " + e.series() + " " + s.label());
        if (previous != null && !previous.equals(e.id()) && !endpoints.get(previous).spawned()) {
          // One endpoint at a time: an idle connection of a spinning transport must not eat the CPU.
          // A spawned peer (pipe, socketpair) stays connected: it lives as long as its connection,
          // the run comes back to it for the next cell, and its idle reader blocks in a read.
          Driver d = drivers.remove(previous);
          if (d != null) {
            d.close();
          }
        }
        previous = e.id();
        Row row;
        try {
          if (broken.containsKey(e.id())) {
            throw new IllegalStateException(broken.get(e.id()));
          }
          if (broken.containsKey(e.id() + "|" + s.kind())) {
            throw new IllegalStateException(broken.get(e.id() + "|" + s.kind()));
          }
          Driver d = drivers.get(e.id());
          if (d == null) {
            try {
              d = open(e);
            } catch (Exception ex) {
              broken.put(e.id(), "cannot connect: " + describe(ex));
              throw ex;
            }
            drivers.put(e.id(), d);
          }
          double rate = 0;
          if (s.mode() == Mode.FIXED) {
            Double closed = closedRates.get(e.id() + "|" + s.kind() + "|" + s.size());
            if (closed == null) {
              throw new IllegalStateException("a fixed-rate scenario needs the closed-loop one of the same size measured first");
            }
            rate = closed * s.rateFraction();
          }
          // The first scenario of a call kind on an endpoint runs its code paths cold on both sides:
          // it warms up longer (see Warmup). With a bounded (quick) warm-up, stock gRPC, the
          // heaviest stack and the one every row is compared with, warms up longer on its first
          // endpoint for each call kind: a cold baseline would flatter the bridge.
          Warmup policy = null;
          if (warmed.add(e.id() + "|" + s.kind())) {
            boolean baseline = plan.warmup().bounded() && e.stack() == Stack.GRPC && warmedBaseline.add(s.kind());
            policy = baseline ? Warmup.quickBaseline(s.warmupMillis()) : plan.warmup();
          }
          long warmup = policy != null ? Math.max(s.warmupMillis(), policy.firstMillis()) : s.warmupMillis();
          Control.Client serverControl = control;
          if (e.control() != null) {
            // A spawned peer: it exists once the driver has connected; its stats are its own.
            serverControl = peerControls.get(e.id());
            if (serverControl == null) {
              serverControl = Control.Client.connect(Path.of(e.control()), Duration.ofSeconds(60));
              peerControls.put(e.id(), serverControl);
            }
          }
          row = measure(plan, e, s, d, rate, serverControl, warmup, policy);
          if (s.mode() == Mode.CLOSED && s.concurrency() == 1 && row.ok()) {
            closedRates.put(e.id() + "|" + s.kind() + "|" + s.size(), row.opsPerSec());
          }
        } catch (Stalled ex) {
          // Calls of this kind hang on this endpoint: say so once, and do not wait for them again.
          broken.put(e.id() + "|" + s.kind(), "not measured: " + s.kind().label() + " calls stalled on this endpoint earlier in the run");
          row = failed(plan, e, s, describe(ex));
        } catch (Exception ex) {
          row = failed(plan, e, s, describe(ex));
        }
        out.println("row " + GSON.toJson(row));
      }
    } finally {
      drivers.values().forEach(Driver::close);
      for (Control.Client c : peerControls.values()) {
        c.close();
      }
    }
    out.flush();
    System.exit(0);
  }

  /** The parent keeps our stdin open and writes nothing: end of file means it is gone, and so should we be. */
  private static void exitWhenParentGoes() {
    Thread.ofPlatform().daemon().name("bench-parent-watch").start(() -> {
      try {
        while (System.in.read() >= 0) {
          // Nothing is ever written.
        }
      } catch (java.io.IOException e) {
        // Treated like end of file.
      }
      Runtime.getRuntime().halt(3);
    });
  }

  private static Driver open(Endpoint e) throws Exception {
    return switch (e.stack()) {
      case BRIDGE, GRPC -> new RpcDriver(e);
      case RAW -> new RawDriver(e);
      case SOCKET -> new SocketDriver(e);
    };
  }

  private static Row measure(
      ClientPlan plan, Endpoint e, Scenario s, Driver d, double rate, Control.Client control, long warmupMillis, Warmup cold)
      throws Exception {
    Window w = new Window();
    d.start(s, w, rate);
    try {
      pause(w, warmupMillis);
      if (cold != null) {
        warmUntilSteady(w, control, cold);
      }
      ProcessStats c0 = ProcessStats.self();
      ProcessStats s0 = control.stats();
      long t0 = System.nanoTime();
      w.beginMeasure();
      pause(w, s.measureMillis());
      ProcessStats c1 = ProcessStats.self();
      ProcessStats s1 = control.stats();
      long t1 = System.nanoTime();
      Histogram h = w.endMeasure();
      long ops = w.ops();
      boolean quiet = w.awaitQuiet(WIND_DOWN_NANOS);
      if (w.failure() != null) {
        throw new IllegalStateException(describe(w.failure()));
      }
      if (!quiet) {
        throw new Stalled("calls stalled: the load did not wind down within " + WIND_DOWN_NANOS / 1_000_000_000
            + " s of the window's end (" + ops + " ops in the window)");
      }
      if (ops == 0) {
        throw new Stalled("calls stalled: nothing completed in the measured window (" + s.measureMillis() + " ms)");
      }
      double seconds = (t1 - t0) / 1e9;
      double perSecond = ops / seconds;
      boolean latency = s.kind().isLatency();
      return new Row(
          plan.run(), plan.placement(), e.stack().label(), e.transport(), e.series(), e.target(), e.idle(), e.loss(), 0, 0,
          s.kind().label(), s.mode().label(), s.size(), s.concurrency(), rate, ops, seconds,
          latency ? micros(h.getValueAtPercentile(50)) : null,
          latency ? micros(h.getValueAtPercentile(90)) : null,
          latency ? micros(h.getValueAtPercentile(99)) : null,
          latency ? micros(h.getValueAtPercentile(99.9)) : null,
          latency ? micros(h.getMaxValue()) : null,
          latency ? micros((long) h.getMean()) : null,
          perSecond, perSecond * s.size() / 1e6,
          (c1.cpuNanos() - c0.cpuNanos()) / 1e3 / ops,
          (s1.cpuNanos() - s0.cpuNanos()) / 1e3 / ops,
          (double) sum(ProcessStats.pathVoluntary(c0, c1)) / ops,
          (double) sum(ProcessStats.pathVoluntary(s0, s1)) / ops,
          (double) (c1.voluntary() - c0.voluntary()) / ops,
          (double) (s1.voluntary() - s0.voluntary()) / ops,
          (double) (c1.involuntary() - c0.involuntary()) / ops,
          (double) (s1.involuntary() - s0.involuntary()) / ops,
          perThread(c0, c1, ops), perThread(s0, s1, ops), null);
    } finally {
      w.stop();
      w.awaitQuiet(WIND_DOWN_NANOS);
      d.end();
    }
  }

  /** Goes on warming up as {@code policy} says (see {@link Warmup}). */
  private static void warmUntilSteady(Window w, Control.Client server, Warmup policy) throws InterruptedException {
    long end = System.nanoTime() + policy.maxMillis() * 1_000_000;
    long last = w.warmOps();
    long previousSlice = -1;
    long lastCompile = compileMillis(server);
    while (w.failure() == null && System.nanoTime() < end) {
      pause(w, policy.sliceMillis());
      long now = w.warmOps();
      long slice = now - last;
      last = now;
      long compile = compileMillis(server);
      boolean jitQuiet = compile < 0 || lastCompile < 0 || compile - lastCompile <= policy.jitQuietMillis();
      lastCompile = compile;
      if (now >= policy.minOps() && previousSlice > 0 && Math.abs(slice - previousSlice) <= 0.1 * previousSlice && jitQuiet) {
        return;
      }
      previousSlice = slice;
    }
  }

  /** JIT compile time so far of this process and the server's, or -1 when either is unknown. */
  private static long compileMillis(Control.Client server) {
    long client = ProcessStats.jitMillis();
    if (client < 0) {
      return -1;
    }
    long serverMillis;
    try {
      serverMillis = server.stats().compileMillis();
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
    return serverMillis < 0 ? -1 : client + serverMillis;
  }

  /** Sleeps {@code millis}, returning early if the load failed. */
  private static void pause(Window w, long millis) throws InterruptedException {
    long end = System.nanoTime() + millis * 1_000_000;
    while (w.failure() == null) {
      long left = end - System.nanoTime();
      if (left <= 0) {
        return;
      }
      Thread.sleep(Math.min(50, Math.max(1, left / 1_000_000)));
    }
  }

  private static Double micros(long nanos) {
    return Math.round(nanos / 100.0) / 10.0;
  }

  private static long sum(Map<String, Long> byGroup) {
    return byGroup.values().stream().mapToLong(Long::longValue).sum();
  }

  private static Map<String, Double> perThread(ProcessStats before, ProcessStats after, long ops) {
    Map<String, Double> out = new java.util.TreeMap<>();
    ProcessStats.pathVoluntary(before, after).forEach((name, v) -> {
      double d = (double) v / ops;
      if (d >= THREAD_SHARE_SHOWN) {
        out.put(name, Math.round(d * 100) / 100.0);
      }
    });
    return out;
  }

  /** The scenario's calls stopped making progress. */
  private static final class Stalled extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    Stalled(String message) {
      super(message);
    }
  }

  static Row failed(ClientPlan plan, Endpoint e, Scenario s, String why) {
    return new Row(
        plan.run(), plan.placement(), e.stack().label(), e.transport(), e.series(), e.target(), e.idle(), e.loss(), 0, 0,
        s.kind().label(), s.mode().label(), s.size(), s.concurrency(), 0, 0, 0,
        null, null, null, null, null, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), why);
  }

  static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.toString() : t instanceof IllegalStateException ? m : t.getClass().getSimpleName() + ": " + m;
  }
}
