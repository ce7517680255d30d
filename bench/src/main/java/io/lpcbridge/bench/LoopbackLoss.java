package io.lpcbridge.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Real random packet loss on the loopback interface for {@code bridge bench --loss}: nftables rules
 * that drop a percentage of the UDP datagrams to and from chosen ports, and count what they saw
 * and dropped, so that every row measured under loss shows that the loss was real.
 *
 * <p>One private table per bench process, with one base chain on the output hook (on {@code lo}
 * every packet passes output exactly once), and four rules per port: a counter and a random drop
 * for the datagrams to the port (the client's requests and acknowledgements) and the same for the
 * datagrams from it (the server's answers):
 *
 * <pre>
 * table inet lpcbridge_bench_loss_PID {
 *   chain output {
 *     type filter hook output priority 0; policy accept;
 *     oifname "lo" udp dport PORT counter comment "seen:PORT:to"
 *     oifname "lo" udp dport PORT numgen random mod 100 lt PCT counter drop comment "drop:PORT:to"
 *     oifname "lo" udp sport PORT counter comment "seen:PORT:from"
 *     oifname "lo" udp sport PORT numgen random mod 100 lt PCT counter drop comment "drop:PORT:from"
 *   }
 * }
 * </pre>
 *
 * Needs root (changing nftables needs CAP_NET_ADMIN) and the {@code nft} binary (Debian package
 * {@code nftables}). The table is deleted by {@link #close()} and, should the process be
 * interrupted, by {@link #removeAll()} from the bench's shutdown hook.
 */
final class LoopbackLoss implements AutoCloseable {
  /** The table of this process: a private name, so that two bench runs never touch each other's rules. */
  static final String TABLE = "lpcbridge_bench_loss_" + ProcessHandle.current().pid();

  private static final List<String> NFT_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin");
  private static final long NFT_TIMEOUT_SECONDS = 15;
  /** The tables installed and not yet removed, for the shutdown hook. */
  private static final Set<String> INSTALLED = ConcurrentHashMap.newKeySet();

  /** Datagrams that passed the rules of one port (both ways) and those dropped. */
  record Counts(long packets, long dropped) {
    Counts minus(Counts earlier) {
      return new Counts(packets - earlier.packets, dropped - earlier.dropped);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "dropped %,d of %,d UDP datagrams (%.1f%%)", dropped, packets,
          packets == 0 ? 0.0 : 100.0 * dropped / packets);
    }
  }

  private final String nft;
  private final Map<Integer, Integer> percentByPort;

  private LoopbackLoss(String nft, Map<Integer, Integer> percentByPort) {
    this.nft = nft;
    this.percentByPort = Map.copyOf(percentByPort);
  }

  /**
   * Why loss cannot be injected here, or null when it can: not root, no {@code nft}, or nftables
   * refusing a table (checked by adding and deleting an empty one, which touches no packet).
   */
  static String unavailable() {
    long uid = effectiveUid();
    if (uid != 0) {
      return "injecting packet loss changes nftables rules, which needs root (this runs as uid " + (uid < 0 ? "unknown" : uid) + ")";
    }
    String nft = findNft();
    if (nft == null) {
      return "injecting packet loss needs the nft binary (package nftables), found in none of " + NFT_DIRS + " nor on the PATH";
    }
    try {
      run(nft, null, "add", "table", "inet", TABLE);
      run(nft, null, "delete", "table", "inet", TABLE);
      return null;
    } catch (IOException e) {
      return "nftables refused a table (" + e.getMessage() + ")";
    }
  }

  /**
   * Installs the rules: {@code percentByPort} maps a UDP port on loopback to the percentage of its
   * datagrams to drop each way.
   *
   * @throws IOException when {@code nft} is missing or refuses the rules; nothing is left installed
   */
  static LoopbackLoss install(Map<Integer, Integer> percentByPort) throws IOException {
    if (percentByPort.isEmpty()) {
      throw new IllegalArgumentException("no port to inject loss on");
    }
    String nft = findNft();
    if (nft == null) {
      throw new IOException("the nft binary is gone");
    }
    LoopbackLoss loss = new LoopbackLoss(nft, percentByPort);
    loss.remove(); // a table left by an earlier run of this process
    INSTALLED.add(TABLE);
    try {
      run(nft, script(TABLE, percentByPort), "-f", "/dev/stdin");
    } catch (IOException e) {
      loss.remove();
      throw e;
    }
    return loss;
  }

  /** The nftables script of the table (see the class comment). */
  static String script(String table, Map<Integer, Integer> percentByPort) {
    StringBuilder b = new StringBuilder("table inet ").append(table).append(" {\n  chain output {\n")
        .append("    type filter hook output priority 0; policy accept;\n");
    percentByPort.forEach((port, pct) -> {
      if (port < 1 || port > 65535 || pct < 1 || pct > 99) {
        throw new IllegalArgumentException("cannot drop " + pct + "% of port " + port);
      }
      for (String[] way : new String[][] {{"dport", "to"}, {"sport", "from"}}) {
        String match = "    oifname \"lo\" udp " + way[0] + " " + port;
        b.append(match).append(" counter comment \"seen:").append(port).append(':').append(way[1]).append("\"\n");
        b.append(match).append(" numgen random mod 100 lt ").append(pct).append(" counter drop comment \"drop:").append(port).append(':')
            .append(way[1]).append("\"\n");
      }
    });
    return b.append("  }\n}\n").toString();
  }

  /** The counters of one port's rules since they were installed. */
  Counts counts(int port) throws IOException {
    if (!percentByPort.containsKey(port)) {
      throw new IllegalArgumentException("no loss rules for port " + port);
    }
    return parseCounts(run(nft, null, "-j", "list", "table", "inet", TABLE), port);
  }

  /**
   * The counters of one port in {@code nft -j list table} output: the rules are found by their
   * comments ({@code seen:PORT:to}, {@code drop:PORT:to}, {@code seen:PORT:from}, {@code
   * drop:PORT:from}).
   *
   * @throws IOException when one of the four is missing (the table was changed behind our back)
   */
  static Counts parseCounts(String json, int port) throws IOException {
    long[] c = {-1, -1, -1, -1};
    List<String> names = List.of("seen:" + port + ":to", "drop:" + port + ":to", "seen:" + port + ":from", "drop:" + port + ":from");
    try {
      for (JsonElement e : JsonParser.parseString(json).getAsJsonObject().getAsJsonArray("nftables")) {
        JsonObject rule = e.getAsJsonObject().getAsJsonObject("rule");
        if (rule == null || !rule.has("comment")) {
          continue;
        }
        int i = names.indexOf(rule.get("comment").getAsString());
        if (i < 0) {
          continue;
        }
        for (JsonElement x : rule.getAsJsonArray("expr")) {
          JsonObject counter = x.getAsJsonObject().getAsJsonObject("counter");
          if (counter != null) {
            c[i] = counter.get("packets").getAsLong();
          }
        }
      }
    } catch (RuntimeException e) {
      throw new IOException("cannot read the nftables counters: " + e.getMessage(), e);
    }
    for (int i = 0; i < c.length; i++) {
      if (c[i] < 0) {
        throw new IOException("the nftables counter '" + names.get(i) + "' is missing from table " + TABLE);
      }
    }
    return new Counts(c[0] + c[2], c[1] + c[3]);
  }

  /** Deletes the table; says nothing if it is not there. */
  private void remove() {
    removeTable(nft);
  }

  @Override
  public void close() {
    remove();
  }

  /** Deletes this process's table if it installed one (the shutdown hook of an interrupted run). */
  static void removeAll() {
    if (!INSTALLED.isEmpty()) {
      String nft = findNft();
      if (nft != null) {
        removeTable(nft);
      }
    }
  }

  private static void removeTable(String nft) {
    try {
      run(nft, null, "delete", "table", "inet", TABLE);
    } catch (IOException e) {
      // Not there (already deleted, or never added).
    }
    INSTALLED.remove(TABLE);
  }

  /** Runs nft; returns its standard output. */
  private static String run(String nft, String stdin, String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(nft);
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).start();
    CompletableFuture<byte[]> out = readAll(p.getInputStream());
    CompletableFuture<byte[]> err = readAll(p.getErrorStream());
    try (OutputStream in = p.getOutputStream()) {
      if (stdin != null) {
        in.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    try {
      if (!p.waitFor(NFT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish within " + NFT_TIMEOUT_SECONDS + " s");
      }
      if (p.exitValue() != 0) {
        throw new IOException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): "
            + new String(err.join(), StandardCharsets.UTF_8).strip());
      }
      return new String(out.join(), StandardCharsets.UTF_8);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", cmd) + " was interrupted", e);
    }
  }

  /** Drains a stream on a thread of its own (not a shared pool, which may have a single thread to give). */
  private static CompletableFuture<byte[]> readAll(InputStream s) {
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    Thread.ofVirtual().name("bench-nft-output").start(() -> {
      try (s) {
        f.complete(s.readAllBytes());
      } catch (IOException e) {
        f.complete(new byte[0]);
      }
    });
    return f;
  }

  private static String findNft() {
    List<String> dirs = new ArrayList<>(NFT_DIRS);
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    for (String d : dirs) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, "nft"))) {
        return Path.of(d, "nft").toString();
      }
    }
    return null;
  }

  /** The effective uid from {@code /proc/self/status}; -1 when it cannot be read. */
  private static long effectiveUid() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Uid:")) {
          return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux.
    }
    return -1;
  }
}
