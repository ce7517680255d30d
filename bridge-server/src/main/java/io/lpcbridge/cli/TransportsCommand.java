package io.lpcbridge.cli;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Transports;
import java.io.PrintWriter;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "transports",
    mixinStandardHelpOptions = true,
    versionProvider = BridgeCli.Version.class,
    description = {
      "Lists every transport on the class path: its target schemes, whether it works on this machine (and why not),"
          + " what it does natively, and what it runs on.",
      "A transport is switched off with -Dbridge.transport.<name>.disabled=true (in JAVA_TOOL_OPTIONS for the launcher)."
    })
final class TransportsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<Transports.Report> reports = Transports.report();
    if (reports.isEmpty()) {
      throw CliException.failure("no transports on the class path (is the build complete?)");
    }
    Table table = new Table("NAME", "SCHEMES", "AVAILABLE", "CAPABILITIES", "DESCRIPTION");
    for (Transports.Report r : reports) {
      table.row(
          r.name(),
          String.join(", ", new TreeSet<>(r.provider().schemes())),
          r.available() ? "yes" : "no",
          r.provider().capabilities().isEmpty()
              ? "-"
              : r.provider().capabilities().stream().sorted().map(Capability::name).collect(Collectors.joining(",")),
          r.provider().description());
    }
    table.print(out);
    List<Transports.Report> unavailable = reports.stream().filter(r -> !r.available()).toList();
    if (!unavailable.isEmpty()) {
      out.println();
      for (Transports.Report r : unavailable) {
        out.println(r.name() + " is unavailable: " + r.cause().map(CliException::messageOf).orElse("(no cause reported)"));
      }
    }
    out.flush();
    return 0;
  }
}
