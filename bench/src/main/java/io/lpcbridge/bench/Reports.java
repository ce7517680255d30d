package io.lpcbridge.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The files of a run: {@code results.csv} (every row of every run), {@code summary.csv} (medians),
 * {@code results.json} (all of it, with the goals and where it was measured), {@code summary.md}
 * (for the README), {@code report.html} with the plots of {@link Charts}.
 */
final class Reports {
  private static final Gson GSON = new GsonBuilder().setPrettyPrinting().serializeNulls().create();

  private Reports() {}

  record Json(Meta meta, List<Goal> goals, List<Agg> summary, List<Row> rows) {}

  /** Writes every file into {@code dir}; returns the notes of what could not be made (plots without fonts...). */
  static List<String> write(Path dir, Meta meta, Summary s, List<Goal> goals, boolean html) throws IOException {
    List<String> problems = new ArrayList<>();
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("results.csv"), rowsCsv(s.rows()), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("summary.csv"), aggsCsv(s.aggs()), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("results.json"), GSON.toJson(new Json(meta, goals, s.aggs(), s.rows())), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("summary.md"), markdown(meta, s, goals), StandardCharsets.UTF_8);
    if (html) {
      Map<String, List<Charts.Plot>> plots;
      try {
        plots = Charts.render(s, dir.resolve("plots"));
      } catch (RuntimeException | Error e) {
        // Headless AWT without fonts, for one: the figures are in the other files.
        problems.add("plots not drawn: " + e);
        plots = Map.of();
      }
      Files.writeString(dir.resolve("report.html"), html(meta, s, goals, plots), StandardCharsets.UTF_8);
    }
    return problems;
  }

  static final String ROW_HEADER =
      "run,placement,stack,transport,series,idle,loss,loss_packets,loss_dropped,kind,mode,size,concurrency,rate,ops,seconds,p50_us,p90_us,p99_us,p999_us,max_us,mean_us,"
          + "ops_per_s,mb_per_s,cpu_client_us,cpu_server_us,wakeups_client,wakeups_server,switches_client,switches_server,"
          + "preemptions_client,preemptions_server,"
          + "threads_client,threads_server,target,error";

  static String rowsCsv(List<Row> rows) {
    StringBuilder b = new StringBuilder(ROW_HEADER).append('\n');
    for (Row r : rows) {
      b.append(String.join(",", List.of(
          String.valueOf(r.run()), csv(r.placement()), r.stack(), csv(r.transport()), csv(r.series()), csv(r.idle()),
          String.valueOf(r.loss()), String.valueOf(r.lossPackets()), String.valueOf(r.lossDropped()), r.kind(), r.mode(),
          String.valueOf(r.size()), String.valueOf(r.concurrency()), d(r.rate()), String.valueOf(r.ops()), d(r.seconds()),
          d(r.p50()), d(r.p90()), d(r.p99()), d(r.p999()), d(r.max()), d(r.mean()), d(r.opsPerSec()), d(r.mbPerSec()),
          d(r.cpuClient()), d(r.cpuServer()), d(r.wakeupsClient()), d(r.wakeupsServer()), d(r.switchesClient()), d(r.switchesServer()),
          d(r.preemptionsClient()), d(r.preemptionsServer()),
          csv(threads(r.threadsClient())), csv(threads(r.threadsServer())), csv(r.target()), csv(r.error() == null ? "" : r.error()))))
          .append('\n');
    }
    return b.toString();
  }

  static final String AGG_HEADER =
      "placement,series,stack,transport,idle,loss,loss_packets,loss_dropped,kind,mode,size,concurrency,runs,p50_us,p99_us,p999_us,max_us,"
          + "ops_per_s,mb_per_s,cpu_client_us,cpu_server_us,wakeups_client,wakeups_server,hops,x_floor,floor,x_faster_than_grpc,grpc,"
          + "x_loss_free,error";

  static String aggsCsv(List<Agg> aggs) {
    StringBuilder b = new StringBuilder(AGG_HEADER).append('\n');
    for (Agg a : aggs) {
      b.append(String.join(",", List.of(
          csv(a.placement()), csv(a.series()), a.stack(), csv(a.transport()), csv(a.idle()), String.valueOf(a.loss()),
          String.valueOf(a.lossPackets()), String.valueOf(a.lossDropped()), a.kind(), a.mode(), String.valueOf(a.size()),
          String.valueOf(a.concurrency()), String.valueOf(a.runs()), d(a.p50()), d(a.p99()), d(a.p999()), d(a.max()),
          d(a.opsPerSec()), d(a.mbPerSec()), d(a.cpuClient()), d(a.cpuServer()), d(a.wakeupsClient()), d(a.wakeupsServer()),
          d(a.hops()), d(a.vsFloor()), csv(a.floor() == null ? "" : a.floor()), d(a.vsGrpc()), csv(a.grpc() == null ? "" : a.grpc()),
          d(a.vsLossFree()), csv(a.error() == null ? "" : a.error()))))
          .append('\n');
    }
    return b.toString();
  }

  private static String threads(Map<String, Double> m) {
    return m == null ? "" : m.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(";"));
  }

  private static String d(Double v) {
    return v == null ? "" : d(v.doubleValue());
  }

  private static String d(double v) {
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return String.valueOf((long) v);
    }
    return String.format(Locale.ROOT, "%.4g", v);
  }

  private static String csv(String s) {
    return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  static String markdown(Meta meta, Summary s, List<Goal> goals) {
    StringBuilder b = new StringBuilder();
    b.append("`").append(meta.command()).append("` on ").append(meta.date()).append(", ").append(meta.machine())
        .append("; load average before/after: ").append(meta.loadBefore()).append(" / ").append(meta.loadAfter())
        .append(". ").append(meta.medians()).append(".\n\n");
    for (String p : s.placements()) {
      b.append("**Unary Echo/Say, 64 B, one call in flight, placement ").append(p).append("**\n\n");
      b.append(Tables.latency(s, p, Goals.LATENCY_SIZE, 1).markdown()).append('\n');
      Terminal.Table t = Tables.throughput(s, p, "server-stream", Goals.STREAM_SIZE, 1);
      if (!t.isEmpty()) {
        b.append("**Server-streaming Echo/Expand, 1 KiB messages, one stream, placement ").append(p).append("**\n\n");
        b.append(t.markdown()).append('\n');
      }
      Terminal.Table loss = Tables.loss(s, p);
      if (!loss.isEmpty()) {
        b.append("**Under random UDP packet loss (nftables on lo, each way), beside the same endpoint without loss, placement ").append(p)
            .append("**\n\n");
        b.append(loss.markdown()).append('\n');
      }
    }
    b.append("**Goals** (median over runs of a ratio taken within each run)\n\n").append(Tables.goals(goals).markdown());
    return b.toString();
  }

  static String html(Meta meta, Summary s, List<Goal> goals, Map<String, List<Charts.Plot>> plots) {
    StringWriter sw = new StringWriter();
    PrintWriter o = new PrintWriter(sw);
    o.println("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>bridge bench " + esc(meta.date()) + "</title>");
    o.println("<style>body{font-family:sans-serif;margin:2em;max-width:1400px}table{border-collapse:collapse;font-size:13px;margin:1em 0}"
        + "th,td{border:1px solid #ccc;padding:3px 6px}td.r{text-align:right}th{background:#f3f3f3}.PASS{color:#060;font-weight:bold}"
        + ".FAIL{color:#b00;font-weight:bold}.SKIP{color:#888}figure{display:inline-block;margin:0 1em 1em 0}code{background:#f3f3f3}</style></head><body>");
    o.println("<h1>bridge bench</h1>");
    o.println("<p><code>" + esc(meta.command()) + "</code><br>" + esc(meta.date()) + " on " + esc(meta.host()) + ": " + esc(meta.machine())
        + "<br>placements " + esc(String.join(", ", meta.placements())) + "; " + esc(meta.medians()) + "; warm-up " + meta.warmupMillis()
        + " ms, measured " + meta.measureMillis() + " ms per scenario; server executor " + esc(meta.serverExecutor())
        + "; JVM flags " + esc(String.join(" ", meta.jvmFlags())) + "<br>load average before " + esc(meta.loadBefore()) + ", after "
        + esc(meta.loadAfter()) + "; took " + Math.round(meta.seconds()) + " s</p>");
    if (!meta.notes().isEmpty()) {
      o.println("<p>Notes:</p><ul>" + meta.notes().stream().map(n -> "<li>" + esc(n) + "</li>").collect(Collectors.joining()) + "</ul>");
    }
    o.println("<h2>Goals</h2><p>Each is the median over runs of a ratio taken within one run, against references of the same run and placement.</p>");
    o.println(table(Tables.goals(goals), true));
    for (String p : s.placements()) {
      o.println("<h2>Placement " + esc(p) + "</h2>");
      o.println("<h3>Unary Echo/Say, 64 B, one call in flight (closed loop)</h3>" + table(Tables.latency(s, p, Goals.LATENCY_SIZE, 1), false));
      Terminal.Table t = Tables.throughput(s, p, "server-stream", Goals.STREAM_SIZE, 1);
      if (!t.isEmpty()) {
        o.println("<h3>Server-streaming Echo/Expand, 1 KiB, one stream</h3>" + table(t, false));
      }
      Terminal.Table loss = Tables.loss(s, p);
      if (!loss.isEmpty()) {
        o.println("<h3>Under random UDP packet loss (nftables on lo, each way), beside the same endpoint without loss</h3>" + table(loss, false));
      }
      for (Charts.Plot plot : plots.getOrDefault(p, List.of())) {
        o.println("<figure>" + plot.svg() + "<figcaption>" + esc(plot.caption()) + "</figcaption></figure>");
      }
    }
    o.println("<h2>Every scenario (medians)</h2>" + table(Tables.all(s), false));
    o.println("<h2>How to read this</h2><ul>"
        + "<li><b>raw/…</b>: the same SPI transport with a plain echo and no RPC layer (the floor under bridge/…); "
        + "<b>socket/…</b>: JDK blocking sockets (the floor under grpc/… and raw/…; socket/udp is a plain UDP ping-pong, the floor "
        + "under raw/udp and the reference of the udp latency goal); <b>grpc/…</b>: stock grpc-java over Netty; "
        + "<b>grpc/inprocess</b>: stock grpc-java's in-process transport, server and client in the client's process, the server on a "
        + "direct executor (a blocking unary call runs on one thread, unserialized: what gRPC's own stubs and call machinery cost; "
        + "no floor).</li>"
        + "<li><b>…[loss=N%]</b>: the same endpoint measured with N% of its UDP datagrams dropped at random each way by nftables "
        + "(<code>--loss</code>); compared only with itself without loss (<b>X LOSS-FREE</b>: throughput with loss over without, "
        + "same run), never with a floor or stock gRPC.</li>"
        + "<li><b>X FLOOR</b>: p50 (or time per message) over the floor's; <b>X FASTER THAN GRPC</b>: stock gRPC's p50 over this one's "
        + "(same socket family, else gRPC over TCP).</li>"
        + "<li><b>WAKE-UPS/CALL</b>: voluntary context switches per call in the client + server processes (each is a thread that slept and "
        + "was woken); <b>HOPS</b>: wake-ups above the floor's, i.e. the cross-thread hand-offs the RPC layer adds.</li>"
        + "<li><b>CPU µs/CALL</b>: each process's CPU time over the window divided by the calls, from its own accounting.</li>"
        + "<li>See docs/bench/methodology.md for the method.</li></ul>");
    o.println("</body></html>");
    o.flush();
    return sw.toString();
  }

  private static String table(Terminal.Table t, boolean verdicts) {
    StringBuilder b = new StringBuilder("<table><tr>");
    for (String h : t.headers()) {
      b.append("<th>").append(esc(h)).append("</th>");
    }
    b.append("</tr>");
    for (String[] r : t.rows()) {
      b.append("<tr>");
      for (int i = 0; i < r.length; i++) {
        boolean numeric = r[i].matches("[-0-9.,x+]+");
        String cls = verdicts && i == 0 ? " class=\"" + esc(r[i]) + "\"" : numeric ? " class=\"r\"" : "";
        b.append("<td").append(cls).append(">").append(esc(r[i])).append("</td>");
      }
      b.append("</tr>");
    }
    return b.append("</table>").toString();
  }

  static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
