package io.lpcbridge.bench;

import io.lpcbridge.cli.CliSupport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code bridge bench}: every transport side by side, against the raw floor and stock gRPC, in one run. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    subcommands = {JmhCommand.class},
    description = {
      "Measures every available transport side by side in one run, client and server in separate JVMs pinned with"
          + " taskset: unary round trips (closed loop and fixed rate), server-, client- and bidi-streaming, over payload"
          + " sizes and calls in flight. Each row is shown beside the raw transport without the RPC layer (the floor)"
          + " and stock gRPC over Netty, measured in the same run and placement. Prints a table and the goals it can"
          + " judge (the benchmark's, and the udp and shm transports'; PASS/FAIL), and writes CSV, JSON, Markdown and an HTML report with plots.",
      "",
      "udp:// is also measured against a plain JDK UDP ping-pong on 127.0.0.1 (socket/udp: unary, messages of one"
          + " datagram), and with --loss under real random packet loss: nftables rules on lo drop PCT%% of that endpoint's"
          + " datagrams each way while server-streaming is measured again (rows bridge/udp[loss=PCT%%], with the drops"
          + " counted); needs root and nft, else those rows are skipped with the reason.",
      "",
      "--quick (every transport, unary 64 B and server-stream 1 KiB, one run, split placement, short warm-ups) takes"
          + " about a minute on 2 vCPUs, seconds for a few transports; its figures are indicative, since a stack may still"
          + " be JIT-compiling when its window opens. --goals (the same two scenarios, 3 runs, idle default and spin, each"
          + " stack warmed until steady and compiled) is the run to quote, about 12 minutes; the full sweep about an"
          + " hour. The estimate printed at the start is calibrated on those. Exit status: 0 when the run completed"
          + " (goals may still FAIL), 1 when nothing could be measured, 2 wrong usage."
    })
public final class BenchCommand implements Callable<Integer> {
  static final List<String> FULL_SIZES = List.of("64", "1k", "64k", "1m");
  static final List<Integer> FULL_CONCURRENCY = List.of(1, 16, 64);
  /**
   * Idle strategies of the full mode for transports with an idle option: the transport's default,
   * and busy-spinning (shm calls it {@code spin}; a transport without it reports the error in its rows).
   */
  static final List<String> FULL_IDLES = List.of("default", "spin");

  /** I/O engines measured by default for transports that offer a choice: their default, and JDK sockets (tcp). */
  static final List<String> FULL_IOS = List.of("default", "jdk");

  /**
   * Extra warm-up, on average, of a bounded (quick) first warm-up beyond its first part, including
   * the stock-gRPC baseline's longer one and the spawned peers' start; calibrated here (every
   * transport: 72 s before the reports, 2026-12-07).
   */
  static final long QUICK_EXTRA_MILLIS = 850;

  @Spec CommandSpec spec;

  @Option(names = "--quick", description = "Seconds, not an hour: every transport, unary 64 B and server-stream 1 KiB, one call in flight,"
      + " one run, split placement, short bounded warm-ups (indicative figures: quote --goals or the full sweep).")
  boolean quick;

  @Option(names = "--goals", description = "The run the goals are quoted from: unary 64 B and server-stream 1 KiB, one call in flight,"
      + " 3 runs, split placement, idle default and spin, warm-ups until steady and compiled, 500ms/1s windows.")
  boolean goalsRun;

  @Option(names = "--transports", split = ",", paramLabel = "NAME", description = "SPI transports to measure, e.g. tcp,unix,shm (default: every available one).")
  List<String> transports;

  @Option(names = "--stacks", split = ",", paramLabel = "STACK", description = "bridge, grpc, raw, socket (default: all).")
  List<String> stacks;

  @Option(names = "--kinds", split = ",", paramLabel = "KIND", description = "unary, server-stream, client-stream, bidi (default: all).")
  List<String> kinds;

  @Option(names = "--sizes", split = ",", paramLabel = "SIZE", description = "Payload bytes per message (default: 64,1k,64k,1m).")
  List<String> sizes;

  @Option(names = "--concurrency", split = ",", paramLabel = "N", description = "Calls or streams in flight (default: 1,16,64).")
  List<Integer> concurrency;

  @Option(names = "--modes", split = ",", paramLabel = "MODE", description = "closed, fixed (fixed rate, unary with one call in flight; default: both).")
  List<String> modes;

  @Option(names = "--placements", split = ",", paramLabel = "P", description = "same (one vCPU for both), split (one each), none (unpinned). Default: same,split.")
  List<String> placements;

  @Option(names = "--runs", paramLabel = "N", description = "Measure N times; goals and rows take the median (default 3, 1 with --quick).")
  Integer runs;

  @Option(names = "--repeat", paramLabel = "WHAT", description = "What runs 2 to N measure: all (every scenario again) or goals"
      + " (only the scenarios the goals read: unary 64 B and server-stream 1 KiB, one in flight). Default: goals for the"
      + " full sweep, all when --kinds, --sizes, --concurrency or --modes choose a subset.")
  String repeat;

  @Option(names = "--idle", split = ",", paramLabel = "STRATEGY", description = "Idle strategies for transports with an '" + BenchPlan.IDLE_OPTION
      + "' option, e.g. default,spin,block (default: default,spin; default only with --quick). 'default' sets no option.")
  List<String> idle;

  @Option(names = "--io", split = ",", paramLabel = "ENGINE", description = "I/O engines for transports that offer a choice of '"
      + BenchPlan.IO_OPTION + "' (tcp and udp: auto, epoll, nio, jdk), each measured as a series of its own, e.g. bridge/tcp[io=jdk]"
      + " (default: default,jdk). 'default' sets no option.")
  List<String> io;

  @Option(names = "--warmup", paramLabel = "DURATION", description = "Load before each measured window (default 250ms, 100ms with --quick,"
      + " 500ms with --goals; each endpoint's first of each call kind warms up longer: until steady, or briefly with --quick).")
  String warmup;

  @Option(names = "--duration", paramLabel = "DURATION", description = "Each measured window (default 400ms, 200ms with --quick, 1s with --goals).")
  String duration;

  @Option(names = "--rate-fraction", paramLabel = "F", description = "Fixed-rate mode offers F times the closed-loop rate measured just before (default 0.5).")
  double rateFraction = 0.5;

  @Option(names = "--loss", split = ",", paramLabel = "PCT", description = "Also measure bridge/udp server-streaming with PCT%% of"
      + " its UDP datagrams dropped at random each way by nftables on lo, e.g. --loss=10 (the goal's figure) or --loss=10,30."
      + " Needs root and nft. Default: no run with loss.")
  List<String> loss;

  @Option(names = "--direct-executor", description = "Run server handlers on the transport threads (BridgeServer and the stock gRPC server alike).")
  boolean directExecutor;

  @Option(names = "--keep-awake", paramLabel = "PERIOD", description = "A thread in every benchmark process wakes at this period and does"
      + " nothing else, so that every stack is measured on the same vCPU wake-up latency as the bridge, whose threads tick at"
      + " about 1 ms while calls flow (docs/bench/methodology.md). Default 1ms; 0 for none.")
  String keepAwake;

  @Option(names = "--out", paramLabel = "DIR", description = "Where to write the reports (default: bench-results/<date-time>).")
  Path out;

  @Option(names = "--table", paramLabel = "WHICH", description = "summary (default) or all: which rows to print on the terminal.")
  String table = "summary";

  @Option(names = "--no-html", description = "Skip the HTML report and its plots.")
  boolean noHtml;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    Terminal term = new Terminal(spec.commandLine().getErr(), CliSupport.stderrIsTerminal());
    Settings s = settings();
    Path scratch = Files.createTempDirectory(
        Path.of(System.getProperty("java.io.tmpdir")), "bridge-bench-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    Thread cleanup = new Thread(() -> {
      RunOnce.killAll();
      LoopbackLoss.removeAll();
      CliSupport.deleteTree(scratch);
    }, "bridge-bench-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      return run(s, scratch, stdout, term);
    } finally {
      term.clear();
      CliSupport.deleteTree(scratch);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // The hook runs anyway.
      }
    }
  }

  private int run(Settings s, Path scratch, PrintWriter stdout, Terminal term) throws Exception {
    String loadBefore = Meta.loadAverage();
    long started = System.nanoTime();
    List<String> notes = new ArrayList<>();
    // Read by every child JVM (Jvm.command passes bridge.* properties on).
    System.setProperty(KeepAwake.PROPERTY, String.valueOf(s.keepAwakeMicros));
    if (s.keepAwakeMicros > 0) {
      notes.add("every process ran a keep-awake thread waking every " + s.keepAwakeMicros + " µs (--keep-awake; docs/bench/methodology.md)");
    } else {
      notes.add("no keep-awake thread (--keep-awake=0): the bridge's own 1 ms ticks may give it faster wake-ups than the other stacks");
    }
    List<Endpoint> endpoints = BenchPlan.endpoints(scratch, s.transports, s.stacks, s.idles, s.ios, note -> {
      notes.add(note);
      term.note("bench: " + note);
    });
    if (endpoints.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "nothing to measure: no endpoint matches the chosen transports and stacks");
    }
    String lossSkipped = null;
    if (s.losses.isEmpty()) {
      lossSkipped = "no run with packet loss: it takes --loss=" + Goals.LOSS_PERCENT + " (root and nft)";
    } else {
      String label = "--loss=" + s.losses.stream().map(String::valueOf).collect(java.util.stream.Collectors.joining(","));
      String why = s.cells.stream().noneMatch(c -> c.kind() == Kind.SERVER_STREAM)
          ? "the runs with loss measure server-streaming, which --kinds leaves out"
          : endpoints.stream().noneMatch(e -> e.stack() == Stack.BRIDGE && e.transport().equals(BenchPlan.LOSS_TRANSPORT))
              ? "the runs with loss are for bridge/" + BenchPlan.LOSS_TRANSPORT + ", which is not measured (see --transports, --stacks)"
              : LoopbackLoss.unavailable();
      if (why == null) {
        endpoints = BenchPlan.withLoss(endpoints, s.losses);
      } else {
        lossSkipped = "skipped " + label + ": " + why;
        notes.add(lossSkipped);
        term.note("bench: " + lossSkipped);
      }
    }
    for (String note : BenchPlan.skipped(endpoints, s.cells)) {
      notes.add(note);
      term.note("bench: " + note);
    }
    if (s.warmup.bounded()) {
      String indicative = "quick run: each endpoint warms up briefly (about a second per call kind; stock gRPC, the baseline, up to"
          + " 5 s), so a stack may still be JIT-compiling when its window opens: the figures are indicative; quote --goals or"
          + " the full sweep";
      notes.add(indicative);
      term.note("bench: " + indicative);
    }
    List<List<Scenario>> plannedRuns = new ArrayList<>();
    for (int run = 1; run <= s.runs; run++) {
      plannedRuns.add(scenarios(s, endpoints, run));
    }
    long total = plannedRuns.stream().mapToLong(List::size).sum() * s.placements.size();
    // Each endpoint's first scenario of each call kind warms up longer (BenchClient.warmUntilSteady).
    long cold = plannedRuns.stream().mapToLong(r -> r.stream().map(x -> x.endpoint() + "|" + x.kind()).distinct().count()).sum()
        * s.placements.size();
    // Calibrated here: about 0.2 s per window beyond its warm-up and measurement (start,
    // wind-down; the full sweep, 2,024 windows in 53 min), and about 4.2 s of warm-up until steady
    // and the JIT quiet (see Warmup) beyond the first warm-up of each call kind on each endpoint
    // (the goal cells over unix and shm: 99 s); QUICK_EXTRA_MILLIS for a bounded warm-up.
    double estimate = total * (s.warmupMillis + s.measureMillis + 200) / 1000.0
        + cold * (s.warmup.firstMillis() - s.warmupMillis + (s.warmup.bounded() ? QUICK_EXTRA_MILLIS : 4200)) / 1000.0
        + s.runs * s.placements.size() * 4;
    if (s.runs > 1 && !s.repeatAll) {
      String repeated = "runs 2 to " + s.runs + " repeat only the scenarios the goals read (unary " + Sizes.format(Goals.LATENCY_SIZE)
          + " and server-stream " + Sizes.format(Goals.STREAM_SIZE) + ", one in flight); every other row is from run 1 (--repeat=all repeats them too)";
      notes.add(repeated);
      term.note("bench: " + repeated);
    }
    term.note(String.format(Locale.ROOT, "bench: %d endpoints, %d scenario windows over %d run(s) x %d placement(s) %s; about %s",
        endpoints.size(), total, s.runs, s.placements.size(),
        s.placements.stream().map(Placement::label).toList(), estimate < 120 ? Math.round(estimate) + " s" : Math.round(estimate / 60) + " min"));
    List<Row> rows = new ArrayList<>();
    long[] done = {0};
    for (int run = 1; run <= s.runs; run++) {
      // Each run takes the endpoints in another order, so that no series is always measured first
      // (coldest) or last.
      List<Endpoint> order = new ArrayList<>(endpoints);
      java.util.Collections.rotate(order, -((run - 1) * endpoints.size() / s.runs));
      List<Scenario> scenarios = scenarios(s, order, run);
      for (Placement p : s.placements) {
        String prefix = "run " + run + "/" + s.runs + " " + p.label() + " ";
        long base = done[0];
        try {
          rows.addAll(RunOnce.run(run, p, order, scenarios, s.warmup, directExecutor, scratch, new RunOnce.Listener() {
            @Override
            public void progress(int i, int n, String label) {
              term.bar(base + i, total, prefix + label);
            }

            @Override
            public void row(Row row) {
              if (row.error() != null) {
                term.note("bench: " + row.placement() + " " + row.series() + " " + row.kind() + " " + Sizes.format(row.size()) + " x"
                    + row.concurrency() + ": " + row.error());
              }
            }
          }));
        } catch (IOException e) {
          String why = "run " + run + " " + p.label() + " failed: " + e.getMessage();
          notes.add(why);
          term.note("bench: " + why);
        }
        done[0] = base + scenarios.size();
      }
    }
    term.clear();
    if (rows.stream().noneMatch(Row::ok)) {
      spec.commandLine().getErr().println("bridge bench: nothing could be measured" + (notes.isEmpty() ? "" : ": " + notes.getLast()));
      return 1;
    }
    Summary summary = new Summary(rows);
    List<Goal> goals = Goals.judge(summary, lossSkipped);
    Meta meta = new Meta(
        ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), commandLine(),
        Meta.hostName(), System.getProperty("os.name") + " " + System.getProperty("os.version"), Meta.cpuModel(),
        Runtime.getRuntime().availableProcessors(), Runtime.version().toString(), Jvm.FLAGS,
        directExecutor ? "direct" : "default, as bridge serve (bridge: the reader thread where the transport has one, else a cached thread pool; grpc: a cached thread pool)",
        s.placements.stream().map(Placement::label).toList(), s.runs, s.warmupMillis, s.measureMillis, loadBefore, Meta.loadAverage(),
        (System.nanoTime() - started) / 1e9, notes);
    print(stdout, meta, summary, goals, s.warmup.bounded());
    Path dir = out != null ? out : Path.of("bench-results", ZonedDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    List<String> problems = Reports.write(dir, meta, summary, goals, !noHtml);
    problems.forEach(pr -> term.note("bench: " + pr));
    stdout.println();
    stdout.println("Reports: " + dir.resolve("report.html") + " (plots in " + dir.resolve("plots") + "), results.csv, summary.csv, results.json, summary.md");
    stdout.flush();
    return 0;
  }

  /** @param quickRun whether the run had bounded warm-ups, which makes its goal verdicts indicative */
  private void print(PrintWriter o, Meta meta, Summary s, List<Goal> goals, boolean quickRun) {
    o.println();
    o.println("bridge bench, " + meta.date() + ": " + meta.machine());
    o.println("load average before " + meta.loadBefore() + ", after " + meta.loadAfter() + ". " + meta.medians());
    for (String p : s.placements()) {
      o.println();
      o.println("Unary Echo/Say, 64 B each way, one call in flight, closed loop; placement " + p + ":");
      Tables.latency(s, p, Goals.LATENCY_SIZE, 1).print(o);
      Terminal.Table t = Tables.throughput(s, p, "server-stream", Goals.STREAM_SIZE, 1);
      if (!t.isEmpty()) {
        o.println();
        o.println("Server-streaming Echo/Expand, 1 KiB messages, one stream; placement " + p + ":");
        t.print(o);
      }
      Terminal.Table loss = Tables.loss(s, p);
      if (!loss.isEmpty()) {
        o.println();
        o.println("Under random UDP packet loss (nftables on lo, each way), beside the same endpoint without loss; placement " + p + ":");
        loss.print(o);
      }
    }
    if (table.equals("all")) {
      o.println();
      o.println("Every scenario (medians over runs):");
      Tables.all(s).print(o);
    }
    o.println();
    o.println("HOPS: wake-ups per call in both processes above the floor's (cross-thread hand-offs added by the RPC layer).");
    o.println("X FLOOR: p50 over the floor's (raw SPI echo under bridge; JDK sockets under grpc and raw). Same run, same placement.");
    if (s.aggs().stream().anyMatch(a -> a.loss() > 0)) {
      o.println("X LOSS-FREE: throughput under loss over the same endpoint's without loss. Same run, same placement.");
    }
    o.println();
    o.println("Goals (median over runs of ratios taken within each run)" + (quickRun ? "; indicative only, from a quick run's short warm-ups:" : ":"));
    Tables.goals(goals).print(o);
    o.flush();
  }

  /**
   * The effective settings: flags, else the defaults of the full or quick mode.
   *
   * @param repeatAll runs 2 to N measure every cell, not only those the goals read
   */
  record Settings(
      Set<String> transports, Set<Stack> stacks, List<BenchPlan.Cell> cells, List<Placement> placements, int runs,
      boolean repeatAll, List<String> idles, List<String> ios, long warmupMillis, long measureMillis, List<Integer> losses,
      Warmup warmup, long keepAwakeMicros) {

    /** The cells run {@code run} (from 1) measures. */
    List<BenchPlan.Cell> cellsOfRun(int run) {
      return run == 1 || repeatAll ? cells : cells.stream().filter(Goals::reads).toList();
    }
  }

  Settings settings() {
    try {
      if (quick && goalsRun) {
        throw new IllegalArgumentException("--quick and --goals are two different presets: choose one");
      }
      // --goals is the goal cells of --quick, measured the careful way.
      boolean preset = quick || goalsRun;
      Set<String> tr = transports == null ? Set.of() : new LinkedHashSet<>(transports.stream().map(String::trim).toList());
      Set<Stack> st = new LinkedHashSet<>((stacks == null ? List.of("bridge", "grpc", "raw", "socket") : stacks).stream().map(Stack::parse).toList());
      List<Kind> k = (kinds == null ? (preset ? List.of("unary", "server-stream") : List.of("unary", "server-stream", "client-stream", "bidi"))
          : kinds).stream().map(Kind::parse).toList();
      List<Mode> m = (modes == null ? (preset ? List.of("closed") : List.of("closed", "fixed")) : modes).stream().map(Mode::parse).toList();
      List<BenchPlan.Cell> cells;
      if (preset && sizes == null && kinds == null && concurrency == null) {
        cells = new ArrayList<>();
        if (k.contains(Kind.UNARY)) {
          cells.add(new BenchPlan.Cell(Kind.UNARY, Mode.CLOSED, Goals.LATENCY_SIZE, 1));
          if (m.contains(Mode.FIXED)) {
            cells.add(new BenchPlan.Cell(Kind.UNARY, Mode.FIXED, Goals.LATENCY_SIZE, 1));
          }
        }
        cells.add(new BenchPlan.Cell(Kind.SERVER_STREAM, Mode.CLOSED, Goals.STREAM_SIZE, 1));
      } else {
        List<Integer> sz = (sizes == null ? FULL_SIZES : sizes).stream().map(Sizes::parse).toList();
        List<Integer> c = concurrency == null ? (preset ? List.of(1) : FULL_CONCURRENCY) : concurrency;
        if (c.stream().anyMatch(n -> n < 1 || n > 1024)) {
          throw new IllegalArgumentException("--concurrency takes 1 to 1024");
        }
        cells = BenchPlan.grid(k, sz, c, m);
      }
      List<Integer> cpus = Placement.allowedCpus();
      boolean taskset = Placement.haveTaskset();
      List<String> pl = placements != null ? placements : preset ? List.of(cpus.size() >= 2 && taskset ? "split" : taskset ? "same" : "none")
          : taskset ? (cpus.size() >= 2 ? List.of("same", "split") : List.of("same")) : List.of("none");
      List<Placement> pls = pl.stream().map(n -> Placement.of(n.trim(), cpus, taskset)).toList();
      int r = runs != null ? runs : quick ? 1 : 3;
      if (r < 1) {
        throw new IllegalArgumentException("--runs must be at least 1");
      }
      boolean subset = sizes != null || kinds != null || concurrency != null || modes != null;
      boolean repeatAll = switch (repeat == null ? (preset || subset ? "all" : "goals") : repeat.trim()) {
        case "all" -> true;
        case "goals" -> false;
        default -> throw new IllegalArgumentException("--repeat takes all or goals");
      };
      long w = millis(warmup, quick ? 100 : goalsRun ? 500 : 250);
      long d = millis(duration, quick ? 200 : goalsRun ? 1000 : 400);
      if (d < 50) {
        throw new IllegalArgumentException("--duration must be at least 50ms");
      }
      if (rateFraction <= 0 || rateFraction > 1) {
        throw new IllegalArgumentException("--rate-fraction must be in (0, 1]");
      }
      if (!table.equals("summary") && !table.equals("all")) {
        throw new IllegalArgumentException("--table takes summary or all");
      }
      List<String> idles = idle != null ? idle.stream().map(String::trim).toList() : quick ? List.of() : FULL_IDLES;
      long tick = keepAwake == null ? 1_000 : micros(keepAwake);
      if (tick < 0 || (tick > 0 && tick < 50)) {
        throw new IllegalArgumentException("--keep-awake takes 0 (none) or a period of at least 50us, like 1ms");
      }
      List<String> ios = io != null ? io.stream().map(String::trim).toList() : FULL_IOS;
      return new Settings(tr, st, cells, pls, r, repeatAll, idles, ios, w, d, losses(loss), quick ? Warmup.quick(w) : Warmup.steady(w), tick);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** What run {@code run} (from 1) measures, cell by cell, endpoints in the order given (BenchPlan.interleaved). */
  private List<Scenario> scenarios(Settings s, List<Endpoint> endpoints, int run) {
    return BenchPlan.interleaved(endpoints, s.cellsOfRun(run), rateFraction, s.warmupMillis, s.measureMillis);
  }

  /** The command as typed, for the reports: the parse result of a subcommand holds its parent's words too. */
  private String commandLine() {
    List<String> args = new ArrayList<>(spec.commandLine().getParseResult().originalArgs());
    int at = args.indexOf("bench");
    return "bridge bench " + String.join(" ", at >= 0 ? args.subList(at + 1, args.size()) : args);
  }

  /**
   * The loss percentages of {@code --loss}: whole numbers from 1 to 99, with or without {@code %},
   * in the order given, each once. Null (no {@code --loss}): none.
   */
  static List<Integer> losses(List<String> texts) {
    if (texts == null) {
      return List.of();
    }
    Set<Integer> out = new LinkedHashSet<>();
    for (String text : texts) {
      String t = text.trim();
      t = t.endsWith("%") ? t.substring(0, t.length() - 1).trim() : t;
      int pct;
      try {
        pct = Integer.parseInt(t);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--loss takes whole percentages like 10 or 10,30; '" + text + "' is not one");
      }
      if (pct < 1 || pct > 99) {
        throw new IllegalArgumentException("--loss takes percentages from 1 to 99 (the run without loss is always made); got " + text.trim());
      }
      out.add(pct);
    }
    return List.copyOf(out);
  }

  /** {@code 250us}, {@code 1ms}, {@code 0}: a period in microseconds. */
  static long micros(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("us") || t.endsWith("µs")) {
        return Long.parseLong(t.substring(0, t.length() - 2).trim());
      }
      return Math.round(millis(t, 0) * 1000.0);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a period like 1ms or 250us");
    }
  }

  /** {@code 500ms}, {@code 2s}, {@code 1.5s}, or plain milliseconds. */
  static long millis(String text, long defaultMillis) {
    if (text == null) {
      return defaultMillis;
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Long.parseLong(t.substring(0, t.length() - 2).trim());
      }
      if (t.endsWith("s")) {
        return Math.round(Double.parseDouble(t.substring(0, t.length() - 1).trim()) * 1000);
      }
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration like 500ms or 2s");
    }
  }

}
