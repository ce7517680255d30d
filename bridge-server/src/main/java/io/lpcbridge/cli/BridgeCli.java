package io.lpcbridge.cli;

import java.io.PrintWriter;
import java.util.ServiceLoader;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code bridge} command line: {@code serve}, {@code call}, {@code transports}, {@code demo},
 * and the subcommands other modules add through {@link BridgeCliExtension} (e.g. {@code bench}).
 *
 * <p>Exit status: 0 success; 1 the operation failed (a call's non-OK status, address in use,
 * server unreachable); 2 the command was wrong (unknown option, method or service, malformed JSON
 * or target). Errors are one line on stderr; set {@code BRIDGE_DEBUG=1} for stack traces of
 * unexpected ones.
 */
@Command(
    name = "bridge",
    mixinStandardHelpOptions = true,
    versionProvider = BridgeCli.Version.class,
    subcommands = {ServeCommand.class, CallCommand.class, TransportsCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
    description = {
      "Stock gRPC stubs over pluggable transports: serve the demo services, call any method with JSON, list the"
          + " transports, or compare them.",
      "",
      "Exit status: 0 success, 1 failure, 2 wrong usage."
    })
public final class BridgeCli implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** Whether progress may redraw in place (stderr is a terminal); set by {@link #main}. */
  private final boolean interactive;

  BridgeCli(boolean interactive) {
    this.interactive = interactive;
  }

  public static void main(String[] args) {
    PrintWriter out = new PrintWriter(System.out, true);
    PrintWriter err = new PrintWriter(System.err, true);
    int code = run(args, out, err, CliSupport.stderrIsTerminal());
    out.flush();
    err.flush();
    System.exit(code);
  }

  /** Runs one command line with the given streams; returns the exit status. */
  static int run(String[] args, PrintWriter out, PrintWriter err, boolean interactive) {
    CommandLine cl = new CommandLine(new BridgeCli(interactive));
    for (BridgeCliExtension extension : ServiceLoader.load(BridgeCliExtension.class, BridgeCli.class.getClassLoader())) {
      cl.addSubcommand(extension.command());
    }
    cl.setOut(out);
    cl.setErr(err);
    cl.setParameterExceptionHandler(BridgeCli::usageError);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          String who = cmd.getCommandSpec().qualifiedName();
          if (ex instanceof CliException ce) {
            cmd.getErr().println(who + ": " + ce.getMessage());
            cmd.getErr().flush();
            return ce.exitCode();
          }
          cmd.getErr().println(who + ": unexpected error: " + ex + (debug() ? "" : " (set BRIDGE_DEBUG=1 for the stack trace)"));
          if (debug()) {
            ex.printStackTrace(cmd.getErr());
          }
          cmd.getErr().flush();
          return CliException.FAILURE;
        });
    return cl.execute(args);
  }

  private static boolean debug() {
    String d = System.getenv("BRIDGE_DEBUG");
    return d != null && !d.isEmpty() && !d.equals("0");
  }

  private static int usageError(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    PrintWriter err = cmd.getErr();
    String who = cmd.getCommandSpec().qualifiedName();
    err.println(who + ": " + ex.getMessage());
    err.println("Try '" + who + " --help'.");
    err.flush();
    return CliException.USAGE;
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing command: one of serve, call, transports, demo");
  }

  Progress progress(PrintWriter err) {
    return new Progress(err, interactive);
  }

  /** {@code bridge <version>}, from the jar manifest when built by Maven. */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = BridgeCli.class.getPackage().getImplementationVersion();
      return new String[] {
        "bridge " + (v != null ? v : "(development build)"), "Java " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")"
      };
    }
  }
}
