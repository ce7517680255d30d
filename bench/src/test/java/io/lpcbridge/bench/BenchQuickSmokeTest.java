package io.lpcbridge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code bridge bench --quick} end to end, shortened: real server and client JVMs over tcp and unix,
 * every stack. Checks the structure of what it prints and writes, never a speed.
 */
class BenchQuickSmokeTest {

  /**
   * Well above what it takes: 9 endpoints with bounded warm-ups, except stock gRPC's first one of
   * each call kind (up to 5 s); about 30 s on a quiet 2-vCPU machine.
   */
  @Test
  @Timeout(value = 3, unit = TimeUnit.MINUTES)
  void quickRunPrintsTheTablesAndGoalsAndWritesEveryReport() throws Exception {
    Path dir = Path.of(System.getProperty("java.io.tmpdir"), "bench-smoke");
    io.lpcbridge.cli.CliSupport.deleteTree(dir);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = new CommandLine(new BenchCommand());
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute("--quick", "--transports", "tcp,unix", "--out", dir.toString());
    String printed = out.toString();
    assertEquals(0, code, "exit status; stderr:\n" + err + "\nstdout:\n" + printed);

    assertTrue(printed.contains("Unary Echo/Say, 64 B each way"), printed);
    assertTrue(printed.contains("P50 µs") && printed.contains("HOPS") && printed.contains("X FLOOR"), printed);
    assertTrue(printed.contains("Server-streaming Echo/Expand, 1 KiB"), printed);
    assertTrue(printed.contains("Goals (median over runs") && printed.contains("indicative only"), printed);
    for (String goal : List.of("thread hops bridge/unix", "RPC overhead bridge/tcp", "bridge/unix p50 >= 2.0x", "bridge/tcp p50 >= 1.3x",
        "bridge/shm", "server-stream 1 KiB over bridge/unix")) {
      assertTrue(printed.contains(goal), "goal '" + goal + "' missing:\n" + printed);
    }
    assertTrue(printed.lines().anyMatch(l -> l.startsWith("PASS") || l.startsWith("FAIL")), printed);
    // The overhead goals name what stock gRPC costs with no transport, measured in the same run.
    assertTrue(printed.lines().anyMatch(l -> l.contains("RPC overhead bridge/tcp") && l.contains("no transport (grpc/inprocess) p50")), printed);

    List<String> csv = Files.readAllLines(dir.resolve("results.csv"), StandardCharsets.UTF_8);
    assertEquals(Reports.ROW_HEADER, csv.getFirst());
    Set<String> series = csv.stream().skip(1).map(l -> l.split(",")[4]).collect(Collectors.toSet());
    assertTrue(series.containsAll(Set.of("bridge/tcp", "bridge/unix", "raw/tcp", "raw/unix", "grpc/tcp", "grpc/unix", "grpc/inprocess", "socket/tcp",
            "socket/unix")),
        "series measured: " + series);
    for (String line : csv.subList(1, csv.size())) {
      String placement = line.split(",")[1];
      assertTrue(placement.startsWith("split(") || placement.startsWith("same(") || placement.equals("none"), line);
      assertTrue(line.endsWith(","), "a scenario failed: " + line);
    }
    assertEquals(Reports.AGG_HEADER, Files.readAllLines(dir.resolve("summary.csv"), StandardCharsets.UTF_8).getFirst());

    JsonObject json = JsonParser.parseString(Files.readString(dir.resolve("results.json"))).getAsJsonObject();
    for (String key : List.of("meta", "goals", "summary", "rows")) {
      assertTrue(json.has(key), "results.json lacks " + key);
    }
    JsonArray rows = json.getAsJsonArray("rows");
    assertEquals(csv.size() - 1, rows.size());
    JsonObject unary = rows.asList().stream().map(e -> e.getAsJsonObject())
        .filter(r -> r.get("series").getAsString().equals("bridge/unix") && r.get("kind").getAsString().equals("unary"))
        .findFirst().orElseThrow();
    for (String field : List.of("p50", "p99", "p999", "max", "opsPerSec", "cpuClient", "cpuServer", "wakeupsClient", "wakeupsServer")) {
      assertTrue(unary.has(field) && !unary.get(field).isJsonNull(), "bridge/unix unary row lacks " + field + ": " + unary);
    }
    assertTrue(unary.get("p50").getAsDouble() > 0 && unary.get("cpuServer").getAsDouble() > 0, unary.toString());
    assertFalse(json.getAsJsonObject("meta").get("loadBefore").getAsString().isBlank());

    String html = Files.readString(dir.resolve("report.html"));
    assertTrue(html.contains("<h2>Goals</h2>") && html.contains("<svg"), "report.html has no goals or no plot");
    assertTrue(Files.size(dir.resolve("plots").resolve(Files.list(dir.resolve("plots")).filter(p -> p.toString().endsWith(".png"))
        .findFirst().orElseThrow().getFileName())) > 0);
    assertTrue(Files.readString(dir.resolve("summary.md")).contains("| bridge/unix |"));
  }
}
