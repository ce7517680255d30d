package io.lpcbridge.cli;

/**
 * A subcommand of {@code bridge} contributed by a module that depends on bridge-server (which
 * cannot depend on it in turn), found with {@link java.util.ServiceLoader}: list the class in
 * {@code META-INF/services/io.lpcbridge.cli.BridgeCliExtension}. The benchmark's {@code bridge
 * bench} is one.
 *
 * <p>The command runs with the streams of {@code bridge} ({@code spec.commandLine().getOut()} and
 * {@code getErr()}) and returns its own exit status: 0 success, 1 failure, 2 wrong usage (a picocli
 * {@code ParameterException} it throws is reported as usage, exit 2, like the built-in commands').
 */
public interface BridgeCliExtension {

  /** A new instance of a picocli {@code @Command}-annotated class, added as a subcommand. */
  Object command();
}
