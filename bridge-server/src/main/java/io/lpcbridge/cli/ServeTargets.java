package io.lpcbridge.cli;

import io.lpcbridge.client.BridgeConfig;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Where {@code bridge serve} listens: the {@code --target} flags, else the configuration's {@code
 * servers.<name>}, else one default target per available local transport.
 */
final class ServeTargets {
  static final String DEFAULT_NAME = "demo";
  static final String DEFAULT_TCP = "tcp://127.0.0.1:7000";
  static final String DEFAULT_GRPC = "grpc://127.0.0.1:7001";

  private ServeTargets() {}

  /**
   * @param configFile {@code --config}, or null for the usual lookup ({@link BridgeConfig#load()})
   * @param name {@code --name}, or null for {@value #DEFAULT_NAME}
   * @param notes where to say which defaults were skipped and why
   * @throws CliException when a target, the configuration or the default socket directory is bad
   */
  static List<BridgeConfig.Endpoint> resolve(List<String> targets, Path configFile, String name, Consumer<String> notes) {
    if (targets != null && !targets.isEmpty()) {
      List<BridgeConfig.Endpoint> out = new ArrayList<>();
      for (String t : targets) {
        out.add(new BridgeConfig.Endpoint(parse(t), Map.of()));
      }
      return out;
    }
    String server = name != null ? name : DEFAULT_NAME;
    BridgeConfig config = loadConfig(configFile);
    List<BridgeConfig.Endpoint> configured = config.server(server);
    if (!configured.isEmpty()) {
      return configured;
    }
    if (configFile != null || name != null) {
      throw CliException.failure(
          config.source().equals("(no file)")
              ? "no configuration file with servers." + server + ".targets: give --config FILE, set BRIDGE_CONFIG or create ./bridge.yaml, or give --target"
              : "configuration " + config.source() + " has no servers." + server + ".targets; add them there, or give --target");
    }
    return defaults(notes);
  }

  /**
   * Where to forward calls for services not hosted here: the --forward flags (with --lb and
   * --health-check), else servers.NAME.forward of the configuration, else nowhere (null).
   */
  static BridgeConfig.Forward forward(
      List<String> flags, String loadBalancing, String healthCheck, Path configFile, String name) {
    if (flags != null && !flags.isEmpty()) {
      List<Target> targets = new ArrayList<>();
      for (String t : flags) {
        if (!t.isBlank()) {
          targets.add(parse(t.trim()));
        }
      }
      return new BridgeConfig.Forward(targets, loadBalancing, healthCheck, Map.of());
    }
    BridgeConfig.Forward configured = loadConfig(configFile).forward(name != null ? name : DEFAULT_NAME).orElse(null);
    if (configured == null && (loadBalancing != null || healthCheck != null)) {
      throw CliException.usage("--lb and --health-check apply to --forward hosts; give --forward");
    }
    return configured;
  }

  private static BridgeConfig loadConfig(Path file) {
    try {
      if (file == null) {
        return BridgeConfig.load();
      }
      if (!Files.isRegularFile(file)) {
        throw CliException.failure("configuration file " + file + " does not exist");
      }
      return BridgeConfig.load(file, System.getenv(), System.getProperties());
    } catch (IllegalArgumentException e) {
      throw CliException.failure(e.getMessage());
    }
  }

  private static Target parse(String text) {
    try {
      return Target.parse(text);
    } catch (IllegalArgumentException e) {
      throw CliException.failure(e.getMessage());
    }
  }

  /** tcp on 7000, unix under {@code $TMPDIR/bridge-$USER}, grpc on 7001: those available here. */
  static List<BridgeConfig.Endpoint> defaults(Consumer<String> notes) {
    List<BridgeConfig.Endpoint> out = new ArrayList<>();
    if (available("tcp", notes)) {
      out.add(new BridgeConfig.Endpoint(Target.parse(DEFAULT_TCP), Map.of()));
    }
    if (available("unix", notes)) {
      Path dir = defaultSocketDirectory();
      out.add(new BridgeConfig.Endpoint(Target.parse("unix://" + dir.resolve("bridge.sock")), Map.of()));
    }
    if (available("grpc", notes)) {
      out.add(new BridgeConfig.Endpoint(Target.parse(DEFAULT_GRPC), Map.of()));
    }
    if (out.isEmpty()) {
      throw CliException.failure("no local transport is available here (see 'bridge transports'); give --target");
    }
    return out;
  }

  private static boolean available(String scheme, Consumer<String> notes) {
    var provider = Transports.find(scheme);
    if (provider.isEmpty()) {
      notes.accept("not serving " + scheme + ": no transport for it on the class path");
      return false;
    }
    var report = Transports.report(provider.get());
    if (!report.available()) {
      notes.accept(
          "not serving " + scheme + ": transport unavailable"
              + report.cause().map(c -> " (" + c.getMessage() + ")").orElse(""));
    }
    return report.available();
  }

  /** {@code $TMPDIR/bridge-$USER}, created owner-only (0700) when missing. */
  static Path defaultSocketDirectory() {
    String tmp = System.getenv("TMPDIR");
    String user = System.getenv("USER");
    if (user == null || user.isBlank()) {
      user = System.getProperty("user.name");
    }
    Path dir = Path.of(tmp == null || tmp.isBlank() ? "/tmp" : tmp, "bridge-" + user);
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
    } catch (IOException | UnsupportedOperationException e) {
      throw CliException.failure("cannot create the socket directory " + dir + ": " + e.getMessage() + " (set TMPDIR, or give --target)");
    }
    return dir;
  }
}
