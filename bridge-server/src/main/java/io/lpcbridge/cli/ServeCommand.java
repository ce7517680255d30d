package io.lpcbridge.cli;

import io.lpcbridge.client.BridgeConfig;
import io.lpcbridge.transport.Target;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = BridgeCli.Version.class,
    sortOptions = false,
    description = {
      "Serves the demo services (bridge.demo.v1.Echo, bridge.kv.v1.KeyValue), grpc.health.v1.Health and server"
          + " reflection on one or more targets until SIGINT or SIGTERM.",
      "",
      "Targets: the --target flags; else servers.<NAME>.targets of the configuration; else every available local"
          + " transport on its default address: " + ServeTargets.DEFAULT_TCP + ", unix://$TMPDIR/bridge-$USER/bridge.sock, "
          + ServeTargets.DEFAULT_GRPC + ".",
      "",
      "Prints 'listening on TARGET' per bound target (ports and paths resolved), then 'ready'. On SIGINT/SIGTERM,"
          + " calls in progress get 5 s to finish and the process exits 0. Exit 1: a target cannot be bound or is"
          + " malformed, or the configuration is bad."
    })
final class ServeCommand implements Callable<Integer> {
  static final Duration GRACE = Duration.ofSeconds(5);

  @Spec CommandSpec spec;

  @Option(names = "--config", paramLabel = "FILE", description = "Configuration file (default: -Dbridge.config, $BRIDGE_CONFIG or ./bridge.yaml).")
  Path config;

  @Option(names = "--name", paramLabel = "NAME", description = "Server name in the configuration (default: " + ServeTargets.DEFAULT_NAME + ").")
  String name;

  @Option(names = "--target", paramLabel = "T", description = "Serve on this target; repeatable, e.g. --target tcp://0.0.0.0:7000 --target unix:///run/bridge.sock.")
  List<String> targets;

  @Option(names = "--direct-executor", description = "Run handlers on the transport threads instead of an executor (lower latency; handlers must not block).")
  boolean directExecutor;

  @Option(
      names = "--forward",
      paramLabel = "T",
      split = ",",
      description = "Forward every call for a service this server does not host to this target, byte for byte; repeatable"
          + " or comma-separated for several hosts (balanced by --lb). Default: servers.<NAME>.forward of the configuration.")
  List<String> forward;

  @Option(names = "--lb", paramLabel = "POLICY", description = "pick_first (default) or round_robin over the --forward hosts.")
  String loadBalancing;

  @Option(
      names = "--health-check",
      paramLabel = "SERVICE",
      arity = "0..1",
      fallbackValue = "",
      description = "Send forwarded calls only to hosts whose grpc.health.v1 Check for SERVICE (default: the whole server) says SERVING.")
  String healthCheck;

  @Option(names = "--no-demo", description = "Host only health and reflection, not the Echo and KeyValue demo services (e.g. to forward them).")
  boolean noDemo;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<BridgeConfig.Endpoint> endpoints = ServeTargets.resolve(targets, config, name, note -> err.println("bridge serve: " + note));
    err.flush();
    ServedServices served;
    try {
      BridgeConfig.Forward fwd = ServeTargets.forward(forward, loadBalancing, healthCheck, config, name);
      served = ServedServices.start(endpoints, directExecutor, !noDemo, fwd);
    } catch (IOException | IllegalArgumentException | IllegalStateException e) {
      throw CliException.failure("cannot serve: " + CliException.messageOf(e));
    }
    StopSignal signal = StopSignal.install(served::stopNow);
    for (Target t : served.targets()) {
      out.println("listening on " + t);
    }
    served.forwarding().ifPresent(f -> out.println("forwarding to " + f));
    out.println("ready");
    out.flush();
    String why = signal.await();
    err.println("bridge serve: " + why + ": stopping (up to " + GRACE.toSeconds() + " s for calls in progress)");
    err.flush();
    boolean clean = served.stop(GRACE);
    if (!clean) {
      err.println("bridge serve: calls still running after " + GRACE.toSeconds() + " s were cancelled");
    }
    err.println("bridge serve: stopped");
    err.flush();
    signal.stopped();
    return 0;
  }
}
