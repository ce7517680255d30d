package io.lpcbridge.it;

import java.nio.file.Path;
import java.util.Map;

/** Starts {@link EchoClientProgram} on a test host, its transport chosen by configuration only. */
final class Clients {
  private Clients() {}

  /**
   * A configuration file naming {@code target} for the client {@code echo}, as a user would write
   * it ({@code target/it-work/config/NAME.yaml}).
   */
  static Path configFile(String name, String target) {
    return configFile(name, target, "5s");
  }

  static Path configFile(String name, String target, String connectTimeout) {
    return configFile(name, target, connectTimeout, Map.of());
  }

  /** The same, with more transport options for the client ({@code io: jdk}). */
  static Path configFile(String name, String target, String connectTimeout, Map<String, String> options) {
    StringBuilder more = new StringBuilder();
    options.forEach((k, v) -> more.append("      ").append(k).append(": ").append(v).append("\n"));
    return Workspace.write(
        "config/" + name + ".yaml",
        "# written by the cross-host tests: the only thing that differs between transports\n"
            + "clients:\n"
            + "  echo:\n"
            + "    target: " + target + "\n"
            + "    options:\n"
            + "      connectTimeout: " + connectTimeout + "\n"
            + more);
  }

  /** The client program on {@code host} with {@code BRIDGE_CONFIG} pointing at {@code config}. */
  static ChildProcess start(TestNetwork.Host host, String name, Path config, String... args) {
    return start(host, name, Map.of("BRIDGE_CONFIG", config.toString()), args);
  }

  static ChildProcess start(TestNetwork.Host host, String name, Map<String, String> env, String... args) {
    return ChildProcess.start(name, host.exec(Workspace.java(EchoClientProgram.class, args)), env, Workspace.root());
  }
}
