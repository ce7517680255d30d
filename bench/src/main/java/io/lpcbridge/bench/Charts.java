package io.lpcbridge.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * The report's plots, drawn with XChart as SVG, per placement: latency percentiles per series,
 * server-streaming throughput against payload size, and the RPC layers' cost over their floors.
 */
final class Charts {
  private static final int WIDTH = 820;
  private static final int HEIGHT = 420;

  /** One plot: its SVG (inlined in the HTML) and the file it was saved to (with a PNG beside it, for READMEs). */
  record Plot(String caption, Path file, String svg) {}

  private Charts() {}

  static Map<String, List<Plot>> render(Summary s, Path dir) {
    System.setProperty("java.awt.headless", "true");
    Map<String, List<Plot>> out = new LinkedHashMap<>();
    try {
      Files.createDirectories(dir);
      for (String p : s.placements()) {
        List<Plot> plots = new ArrayList<>();
        String slug = p.replaceAll("[^a-z0-9]+", "-").replaceAll("-$", "");
        CategoryChart latency = latency(s, p);
        if (latency != null) {
          plots.add(save(latency, dir.resolve("latency-" + slug + ".svg"), "Unary 64 B round trip, one call in flight: p50, p99, p99.9 per series (" + p + ")"));
        }
        XYChart throughput = throughput(s, p);
        if (throughput != null) {
          plots.add(save(throughput, dir.resolve("throughput-" + slug + ".svg"), "Server-streaming throughput against payload size, one stream (" + p + ")"));
        }
        CategoryChart overhead = overhead(s, p);
        if (overhead != null) {
          plots.add(save(overhead, dir.resolve("overhead-" + slug + ".svg"), "Unary p50 over the floor, by payload size, one call in flight (" + p + ")"));
        }
        out.put(p, plots);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static CategoryChart latency(Summary s, String placement) {
    List<Agg> rows = s.aggs().stream().filter(a -> a.placement().equals(placement) && a.ok() && a.is("unary", Goals.LATENCY_SIZE, 1, "closed")).toList();
    if (rows.isEmpty()) {
      return null;
    }
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(height(rows.size())).title("Unary 64 B latency, " + placement)
        .xAxisTitle("percentile").yAxisTitle("µs (log)").build();
    style(c.getStyler());
    // Bars cannot stand on a logarithmic axis in XChart: a line per series, through its percentiles.
    c.getStyler().setDefaultSeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
    c.getStyler().setYAxisLogarithmic(true);
    for (Agg a : rows) {
      c.addSeries(a.series(), List.of("p50", "p99", "p99.9"), List.of(a.p50(), a.p99(), a.p999()));
    }
    return c;
  }

  private static XYChart throughput(Summary s, String placement) {
    Map<String, List<Agg>> bySeries = new LinkedHashMap<>();
    s.aggs().stream()
        .filter(a -> a.placement().equals(placement) && a.ok() && a.kind().equals("server-stream") && a.concurrency() == 1)
        .forEach(a -> bySeries.computeIfAbsent(a.series(), k -> new ArrayList<>()).add(a));
    bySeries.values().removeIf(l -> l.size() < 2);
    if (bySeries.isEmpty()) {
      return null;
    }
    XYChart c = new XYChartBuilder().width(WIDTH).height(height(bySeries.size())).title("Server-streaming throughput, " + placement)
        .xAxisTitle("payload bytes per message (log)").yAxisTitle("MB/s (log)").build();
    style(c.getStyler());
    c.getStyler().setXAxisLogarithmic(true);
    c.getStyler().setYAxisLogarithmic(true);
    bySeries.forEach((series, list) -> c.addSeries(series,
        list.stream().mapToDouble(Agg::size).toArray(), list.stream().mapToDouble(Agg::mbPerSec).toArray()));
    return c;
  }

  private static CategoryChart overhead(Summary s, String placement) {
    Map<String, Map<Integer, Double>> bySeries = new LinkedHashMap<>();
    s.aggs().stream()
        .filter(a -> a.placement().equals(placement) && a.ok() && a.kind().equals("unary") && a.concurrency() == 1
            && a.mode().equals("closed") && a.vsFloor() != null && (a.stack().equals("bridge") || a.stack().equals("grpc")))
        .forEach(a -> bySeries.computeIfAbsent(a.series(), k -> new java.util.TreeMap<>()).put(a.size(), a.vsFloor()));
    if (bySeries.isEmpty()) {
      return null;
    }
    List<Integer> sizes = bySeries.values().stream().flatMap(m -> m.keySet().stream()).distinct().sorted().toList();
    CategoryChart c = new CategoryChartBuilder().width(WIDTH).height(height(bySeries.size())).title("RPC layer over its floor (unary p50), " + placement)
        .xAxisTitle("payload").yAxisTitle("x floor p50").build();
    style(c.getStyler());
    List<String> labels = sizes.stream().map(Sizes::format).toList();
    bySeries.forEach((series, m) -> c.addSeries(series + " / " + (series.startsWith("grpc/") ? "socket" : "raw"),
        labels, sizes.stream().map(z -> m.getOrDefault(z, 0.0)).toList()));
    return c;
  }

  /** Tall enough for the legend outside the plot: about 20 px per series. */
  private static int height(int series) {
    return Math.max(HEIGHT, 80 + 20 * series);
  }

  private static void style(Styler st) {
    st.setLegendPosition(Styler.LegendPosition.OutsideE);
    st.setChartBackgroundColor(java.awt.Color.WHITE);
    st.setPlotBackgroundColor(java.awt.Color.WHITE);
    if (st instanceof org.knowm.xchart.style.AxesChartStyler a) {
      a.setYAxisDecimalPattern("#,##0.##");
    }
  }

  private static Plot save(Chart<?, ?> chart, Path file, String caption) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    VectorGraphicsEncoder.saveVectorGraphic(chart, bytes, VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
    Files.write(file, bytes.toByteArray());
    String png = file.toString().replaceAll("\\.svg$", "");
    BitmapEncoder.saveBitmap(chart, png, BitmapEncoder.BitmapFormat.PNG);
    String svg = bytes.toString(StandardCharsets.UTF_8);
    int start = svg.indexOf("<svg");
    return new Plot(caption, file, start >= 0 ? svg.substring(start) : svg);
  }
}
