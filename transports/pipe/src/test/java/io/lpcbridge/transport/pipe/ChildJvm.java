package io.lpcbridge.transport.pipe;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/** Command lines that start a small JVM with this test's class path. */
final class ChildJvm {
  private ChildJvm() {}

  static List<String> argv(Class<?> main, String... args) {
    List<String> cmd = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-Xmx64m",
        "-XX:TieredStopAtLevel=1",
        "-Xshare:auto",
        "-cp",
        System.getProperty("java.class.path"),
        main.getName()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  /** The same as one command line, each word single-quoted. */
  static String commandLine(Class<?> main, String... args) {
    return argv(main, args).stream().map(w -> "'" + w.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
  }
}
