package io.lpcbridge.bench;

import java.util.List;
import java.util.concurrent.Callable;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/** {@code bridge bench jmh [JMH options]}: the microbenchmarks of this module, run by JMH. */
@Command(
    name = "jmh",
    mixinStandardHelpOptions = true,
    description = {
      "Runs the JMH microbenchmarks of the bench module (the wire codec over an in-memory connection pair; the SPI"
          + " round trip of each transport in one process), passing the rest of the command line to JMH, e.g."
          + " 'bridge bench jmh WireCodec -f 1 -wi 3 -i 5'. JMH's options: 'bridge bench jmh -- -h'."
    })
final class JmhCommand implements Callable<Integer> {
  /** Everything after {@code jmh}, in order: JMH's own options and benchmark name patterns. */
  @Unmatched List<String> args = new java.util.ArrayList<>();

  @Override
  public Integer call() throws Exception {
    new Runner(new CommandLineOptions(args.toArray(String[]::new))).run();
    return 0;
  }
}
