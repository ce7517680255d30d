package io.lpcbridge.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Where the tests keep configuration files, logs and the node client: {@code it/target/it-work}. */
final class Workspace {
  private Workspace() {}

  static Path root() {
    return Path.of(System.getProperty("bridge.it.work", "target/it-work")).toAbsolutePath();
  }

  /** A directory under the workspace, created if missing. */
  static Path dir(String name) {
    Path d = root().resolve(name);
    try {
      return Files.createDirectories(d);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + d, e);
    }
  }

  /** Writes a text file under the workspace and returns its path. */
  static Path write(String relative, String content) {
    Path p = root().resolve(relative);
    try {
      Files.createDirectories(p.getParent());
      return Files.writeString(p, content);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + p, e);
    }
  }

  /** The command line that runs {@code mainClass} from this test's class path in a fresh JVM. */
  static List<String> java(Class<?> mainClass, String... args) {
    return java(mainClass.getName(), args);
  }

  static List<String> java(String mainClass, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--enable-native-access=ALL-UNNAMED");
    // Small, quick-starting JVMs: two cores are shared by every process of the run.
    cmd.add("-Xmx256m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(List.of(args));
    return cmd;
  }
}
