package io.lpcbridge.bench;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code bridge bench} shows while it runs: a progress bar redrawn in place on stderr when
 * stderr is a terminal (one line per step otherwise), and plain-text tables.
 */
final class Terminal {
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int BAR_WIDTH = 24;

  private final PrintWriter err;
  private final boolean interactive;
  private final int columns;
  private long lastDraw;
  private boolean lineOpen;

  Terminal(PrintWriter err, boolean interactive) {
    this.err = err;
    this.interactive = interactive;
    int c = 80;
    try {
      String env = System.getenv("COLUMNS");
      c = env == null ? 80 : Math.max(30, Integer.parseInt(env.trim()));
    } catch (NumberFormatException e) {
      // 80 it is.
    }
    this.columns = c;
  }

  /** A step worth a line of its own in a log; on a terminal it replaces the bar for a moment. */
  synchronized void note(String text) {
    clear();
    err.println(text);
    err.flush();
  }

  /** Redraws the bar (at most ten times a second); without a terminal, prints each new label once. */
  synchronized void bar(long done, long total, String label) {
    long now = System.nanoTime();
    if (!interactive) {
      err.println(String.format(java.util.Locale.ROOT, "[%3d%%] %s", total == 0 ? 100 : 100 * done / total, label));
      err.flush();
      return;
    }
    if (done < total && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    lastDraw = now;
    int filled = total <= 0 ? BAR_WIDTH : (int) (BAR_WIDTH * done / total);
    String text = "[" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + (total <= 0 ? 100 : 100 * done / total) + "% " + label;
    if (text.length() >= columns) {
      text = text.substring(0, columns - 2) + "…";
    }
    err.print("\r\033[K" + text);
    err.flush();
    lineOpen = true;
  }

  synchronized void clear() {
    if (interactive && lineOpen) {
      err.print("\r\033[K");
      err.flush();
      lineOpen = false;
    }
  }

  /** A plain-text table: columns padded to the widest cell; a header ending in {@code >} is right-aligned. */
  static final class Table {
    private final String[] headers;
    private final boolean[] right;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... headers) {
      this.headers = new String[headers.length];
      this.right = new boolean[headers.length];
      for (int i = 0; i < headers.length; i++) {
        right[i] = headers[i].endsWith(">");
        this.headers[i] = right[i] ? headers[i].substring(0, headers[i].length() - 1) : headers[i];
      }
    }

    Table row(Object... cells) {
      String[] r = new String[cells.length];
      for (int i = 0; i < cells.length; i++) {
        r[i] = String.valueOf(cells[i]);
      }
      rows.add(r);
      return this;
    }

    boolean isEmpty() {
      return rows.isEmpty();
    }

    List<String[]> rows() {
      return rows;
    }

    String[] headers() {
      return headers;
    }

    void print(PrintWriter out) {
      int[] w = new int[headers.length];
      for (int i = 0; i < headers.length; i++) {
        w[i] = headers[i].length();
        for (String[] r : rows) {
          w[i] = Math.max(w[i], r[i].length());
        }
      }
      out.println(line(headers, w));
      StringBuilder rule = new StringBuilder();
      for (int i = 0; i < w.length; i++) {
        rule.append(i == 0 ? "" : "  ").append("-".repeat(w[i]));
      }
      out.println(rule);
      for (String[] r : rows) {
        out.println(line(r, w));
      }
    }

    private String line(String[] cells, int[] w) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < cells.length; i++) {
        String pad = " ".repeat(w[i] - cells[i].length());
        b.append(i == 0 ? "" : "  ").append(right[i] ? pad + cells[i] : i == cells.length - 1 ? cells[i] : cells[i] + pad);
      }
      return b.toString();
    }

    /** The same table in Markdown, for the README. */
    String markdown() {
      StringBuilder b = new StringBuilder("|");
      for (String h : headers) {
        b.append(' ').append(h).append(" |");
      }
      b.append("\n|");
      for (boolean r : right) {
        b.append(r ? "---:|" : "---|");
      }
      b.append('\n');
      for (String[] row : rows) {
        b.append('|');
        for (String c : row) {
          b.append(' ').append(c.replace("|", "\\|")).append(" |");
        }
        b.append('\n');
      }
      return b.toString();
    }
  }
}
