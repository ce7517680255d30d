package io.lpcbridge.it;

import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * What the tests need from the machine. A missing requirement that a developer machine may lack
 * (root, {@code ip}, node) skips the test by assumption and prints why; one that CI installs
 * ({@code nft}) fails with what to install, so it is never silently skipped there.
 */
final class Requirements {
  private Requirements() {}

  /** Network namespaces and veth pairs need root and iproute2. */
  static void assumeNamespaces() {
    assume(isRoot(), "not running as root: network namespaces and veth pairs need root (run as root, as CI does)");
    assume(executable("ip").isPresent(), "the 'ip' command (iproute2) is missing: apt-get install -y iproute2");
  }

  /**
   * The udp transport is part of the build: a missing or unavailable provider is a failure, not a
   * reason to skip.
   */
  static void requireUdp() {
    Optional<TransportProvider> p = Transports.find("udp");
    if (p.isEmpty()) {
      throw new AssertionError("no provider for scheme udp on the class path (is transport-udp a dependency?)");
    }
    Transports.Report r = Transports.report(p.get());
    if (!r.available()) {
      throw new AssertionError(
          "transport udp is not available here: " + r.cause().map(Throwable::getMessage).orElse("no cause reported"));
    }
  }

  /** nftables injects the packet loss; .ci/run installs it, so its absence is a failure. */
  static String requireNft() {
    return executable("nft")
        .map(Path::toString)
        .orElseThrow(() -> new AssertionError("the 'nft' command is missing: apt-get install -y nftables (.ci/run does this)"));
  }

  static Path requireNode() {
    Optional<Path> node = executable("node");
    assume(node.isPresent(), "node is not installed: the Node.js client test needs node and npm (apt-get install -y nodejs npm)");
    assume(executable("npm").isPresent(), "npm is not installed: the Node.js client test installs @grpc/grpc-js with npm ci");
    return node.get();
  }

  static Path requireNpm() {
    return executable("npm").orElseThrow();
  }

  /** Skips the calling test (or class) with {@code reason}, printing it to the build log too. */
  static void assume(boolean condition, String reason) {
    if (!condition) {
      String caller =
          StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE)
              .walk(s -> s.map(StackWalker.StackFrame::getDeclaringClass).filter(c -> c != Requirements.class).findFirst())
              .map(Class::getSimpleName)
              .orElse("?");
      System.out.println("[it] SKIPPED " + caller + ": " + reason);
      Assumptions.abort(reason);
    }
  }

  static boolean isRoot() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return line.split("\\s+")[2].equals("0"); // the effective uid
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  /** The command on PATH, or in the sbin directories a non-login root shell may lack. */
  static Optional<Path> executable(String name) {
    List<String> dirs = new ArrayList<>();
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    dirs.addAll(List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/bin", "/usr/local/sbin"));
    for (String d : dirs) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, name);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }
}
