package io.lpcbridge.cli;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    versionProvider = BridgeCli.Version.class,
    sortOptions = false,
    description = {
      "Starts 'bridge serve' in a child JVM on every available local transport, checks each one (KeyValue Put/Get,"
          + " every Echo call kind), then times sequential unary Echo/Say calls (64-byte payload) over each and prints"
          + " a comparison with stock gRPC measured in the same run.",
      "",
      "A quick smoke comparison, not the benchmark: one client thread, no fixed-rate mode, short warm-up."
    })
final class DemoCommand implements Callable<Integer> {
  static final int DEFAULT_CALLS = 20_000;
  static final int QUICK_CALLS = 2_000;

  /** The schemes the demo can address, in table order; each gets a target below. */

  @Spec CommandSpec spec;
  @ParentCommand BridgeCli parent;

  @Option(names = "--quick", description = "Measure " + QUICK_CALLS + " calls per transport instead of " + DEFAULT_CALLS + ".")
  boolean quick;

  @Option(names = "--calls", paramLabel = "N", description = "Measured calls per transport (default " + DEFAULT_CALLS + ", " + QUICK_CALLS + " with --quick).")
  Integer calls;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    int measured = calls != null ? calls : quick ? QUICK_CALLS : DEFAULT_CALLS;
    if (measured < 1) {
      throw CliException.usage("--calls must be at least 1, not " + measured);
    }
    int warmup = Math.max(200, measured / 2);
    Progress progress = parent.progress(err);
    Path dir = createTempDir();
    // Ctrl-C or SIGTERM mid-run: the child and the sockets go too.
    AtomicReference<ChildServer> child = new AtomicReference<>();
    Thread cleanup =
        new Thread(
            () -> {
              ChildServer c = child.get();
              if (c != null) {
                c.close();
              }
              CliSupport.deleteTree(dir);
            },
            "bridge-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    try {
      List<String> requested = targets(dir, note -> progress.step("demo: " + note));
      progress.step("demo: starting 'bridge serve' in a child JVM (" + requested.stream().map(t -> Target.parse(t).scheme()).collect(Collectors.joining(", ")) + ")");
      List<TransportTrial.Result> results = new ArrayList<>();
      try (ChildServer server = ChildServer.start(requested, dir)) {
        child.set(server);
        for (Target t : server.targets()) {
          try {
            results.add(new TransportTrial(t, progress).run(warmup, measured));
          } catch (CliException e) {
            progress.done();
            throw server.isAlive() ? e : CliException.failure(e.getMessage() + "; the server JVM died" + server.failureDetails());
          }
        }
        progress.step("demo: stopping the server");
      }
      // Transports whose client launches its server: each trial starts its own `bridge serve`.
      for (Transports.Report r : Transports.report()) {
        if (!r.available() || r.provider().childServeTarget().isEmpty()) {
          continue;
        }
        Target spawn = r.provider().spawnTarget(ChildServer.serveCommand(List.of(r.provider().childServeTarget().get().toString())));
        results.add(new TransportTrial(spawn, java.util.Map.of("childStderr", "discard"), progress).run(warmup, measured));
      }
      progress.done();
      print(out, results, measured, warmup);
      return 0;
    } finally {
      progress.done();
      CliSupport.deleteTree(dir);
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // The hook is running or has run; the directory is gone either way.
      }
    }
  }

  /**
   * The loopback targets of every available transport ({@code TransportProvider.loopbackTargets}),
   * in provider order, with the grpc (tcp) reference among them; sockets go in {@code dir}.
   */
  static List<String> targets(Path dir, java.util.function.Consumer<String> notes) {
    List<String> out = new ArrayList<>();
    for (Transports.Report r : Transports.report()) {
      if (!r.available()) {
        notes.accept("skipping " + r.name() + ": " + r.cause().map(Throwable::getMessage).orElse("unavailable"));
        continue;
      }
      List<Target> targets = r.provider().loopbackTargets(dir);
      if (targets.isEmpty() && r.provider().childServeTarget().isEmpty()) {
        notes.accept("skipping " + r.name() + " " + r.provider().schemes() + ": it offers no loopback target");
      }
      for (Target t : targets) {
        out.add(t.toString());
      }
    }
    return out;
  }

  /** A target for the table: a spawning target's long command line is shortened to what it runs. */
  static String display(Target t) {
    String text = t.toString();
    int serve = text.indexOf("'serve'");
    return serve < 0 ? text : t.scheme() + ":<java … BridgeCli " + text.substring(serve).replace("'", "") + ">";
  }

  private static void print(PrintWriter out, List<TransportTrial.Result> results, int measured, int warmup) {
    Optional<TransportTrial.Result> grpc = results.stream().filter(r -> r.target().scheme().equals("grpc")).findFirst();
    Table table = new Table("TRANSPORT", "TARGET", "P50 µs>", "P99 µs>", "CALLS/S>", "P50 VS GRPC>");
    for (TransportTrial.Result r : results) {
      table.row(
          r.target().scheme(),
          display(r.target()),
          micros(r.p50Nanos()),
          micros(r.p99Nanos()),
          String.format(Locale.ROOT, "%,.0f", r.callsPerSecond()),
          grpc.map(g -> String.format(Locale.ROOT, "%.2fx", (double) r.p50Nanos() / g.p50Nanos())).orElse("-"));
    }
    out.println();
    out.println("bridge demo: " + measured + " sequential unary Echo/Say calls per transport (" + TransportTrial.PAYLOAD_BYTES
        + "-byte payload, after " + warmup + " warm-up calls), one client thread, server in a child JVM on this host");
    out.println();
    table.print(out);
    out.println();
    out.println("P50 VS GRPC: p50 divided by the p50 of the grpc (tcp) row measured in this run; below 1.00x is faster than stock gRPC.");
    out.println("Java " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, "
        + System.getProperty("os.name") + " " + System.getProperty("os.version") + ".");
    out.println("These figures are a quick smoke comparison, not a benchmark (no fixed rate, no coordinated-omission");
    out.println("correction, short warm-up, client and server sharing the CPUs). The benchmark is `bridge bench`: --quick for");
    out.println("a first look at every transport beside its raw floor and stock gRPC, --goals for figures to quote.");
    out.flush();
  }

  private static String micros(long nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1000.0);
  }

  private static Path createTempDir() {
    try {
      return Files.createTempDirectory(
          Path.of(System.getProperty("java.io.tmpdir")), "bridge-demo-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    } catch (IOException e) {
      throw CliException.failure("cannot create a temporary directory for the demo's sockets: " + e.getMessage());
    }
  }

}
