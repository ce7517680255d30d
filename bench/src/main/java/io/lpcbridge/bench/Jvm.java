package io.lpcbridge.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command lines for the benchmark's child JVMs: this JVM's java, class path and bridge.* properties. */
final class Jvm {
  /**
   * The same flags on both sides, so neither process is favoured by its heap or collector. The heap
   * is pre-touched so that a window measures a process in its steady state, not the page faults of
   * a fresh JVM's first pass over eden (docs/bench/methodology.md, "Why -XX:+AlwaysPreTouch").
   */
  static final List<String> FLAGS = List.of("--enable-native-access=ALL-UNNAMED", "-Xms512m", "-Xmx1g", "-XX:+UseG1GC", "-XX:+AlwaysPreTouch");

  private Jvm() {}

  static List<String> command(List<String> prefix, Class<?> main, List<String> args) {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(FLAGS);
    for (String p : System.getProperties().stringPropertyNames()) {
      if (p.startsWith("bridge.")) {
        cmd.add("-D" + p + "=" + System.getProperty(p));
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(main.getName());
    cmd.addAll(args);
    return cmd;
  }
}
