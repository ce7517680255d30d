package io.lpcbridge.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The Node.js client ({@code it/src/test/node/client.js}, {@code @grpc/grpc-js} and {@code
 * @grpc/proto-loader} pinned by the committed {@code package-lock.json}), installed with {@code npm
 * ci} into {@code target/it-work/node}. The install is reused while the lock file is unchanged,
 * so only the first run (or a changed lock) reaches the npm registry.
 */
final class NodeClient {
  static final Duration INSTALL = Duration.ofSeconds(300);
  static final Duration RUN = Duration.ofSeconds(60);
  private static final List<String> FILES = List.of("package.json", "package-lock.json", "client.js");
  private static final String STAMP = ".bridge-it-installed.sha256";

  private final Path node;
  private final Path dir;

  private NodeClient(Path node, Path dir) {
    this.node = node;
    this.dir = dir;
  }

  /** Copies the client next to its node_modules and runs {@code npm ci} unless the same lock is installed. */
  static NodeClient prepare(Path node) {
    Path src = Path.of(System.getProperty("bridge.it.nodeSources", "src/test/node"));
    Path dir = Workspace.dir("node");
    try {
      for (String f : FILES) {
        Files.copy(src.resolve(f), dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
      String hash = sha256(dir.resolve("package.json"), dir.resolve("package-lock.json"));
      Path stamp = dir.resolve("node_modules").resolve(STAMP);
      if (Files.exists(stamp) && Files.readString(stamp).strip().equals(hash)) {
        return new NodeClient(node, dir);
      }
      long t0 = System.nanoTime();
      List<String> npmCi = List.of(Requirements.requireNpm().toString(), "ci", "--no-audit", "--no-fund", "--loglevel=error");
      try (ChildProcess npm = ChildProcess.start("npm-ci", npmCi, Map.of(), dir)) {
        int exit = npm.awaitExit(INSTALL);
        if (exit != 0) {
          throw new AssertionError("npm ci failed (exit " + exit + "); it needs the npm registry the first time\n" + npm.tail());
        }
      }
      Files.writeString(stamp, hash + "\n");
      System.out.printf("[it] npm ci in %s: %d ms%n", dir, (System.nanoTime() - t0) / 1_000_000);
      return new NodeClient(node, dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the node client in " + dir, e);
    }
  }

  /** {@code node client.js TARGET --proto-root ...}, to run directly or inside a namespace. */
  List<String> command(String target) {
    List<String> cmd = new ArrayList<>();
    cmd.add(node.toString());
    cmd.add(dir.resolve("client.js").toString());
    cmd.add(target);
    cmd.add("--proto-root");
    cmd.add(Path.of(System.getProperty("bridge.it.protoRoot", "../proto/src/main/proto")).toAbsolutePath().normalize().toString());
    return cmd;
  }

  Path dir() {
    return dir;
  }

  private static String sha256(Path... files) throws IOException {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Path f : files) {
        md.update(Files.readAllBytes(f));
      }
      return HexFormat.of().formatHex(md.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
