package io.lpcbridge.cli;

import java.io.PrintWriter;

/**
 * Progress on stderr for anything slower than a second: an in-place bar redrawn with {@code \r}
 * when stderr is a terminal, otherwise one line per step (a log file gets no bar noise).
 */
final class Progress {
  private static final long REDRAW_NANOS = 100_000_000L;
  private static final int BAR_WIDTH = 30;

  private final PrintWriter err;
  private final boolean terminal;
  /** An in-place line longer than the terminal would wrap, and {@code \r} would then redraw only its tail. */
  private final int columns = columns();
  private long lastDraw;
  private boolean lineOpen;

  Progress(PrintWriter err, boolean terminal) {
    this.err = err;
    this.terminal = terminal;
  }

  private static int columns() {
    try {
      String c = System.getenv("COLUMNS");
      return c == null ? 80 : Math.max(20, Integer.parseInt(c.trim()));
    } catch (NumberFormatException e) {
      return 80;
    }
  }

  private String fit(String text) {
    return text.length() < columns ? text : text.substring(0, columns - 2) + "…";
  }

  /** Starts a step: on a terminal it replaces the current line, otherwise it is a line of its own. */
  synchronized void step(String text) {
    if (terminal) {
      err.print("\r\033[K" + fit(text));
      lineOpen = true;
    } else {
      err.println(text);
    }
    err.flush();
    lastDraw = System.nanoTime();
  }

  /** Redraws the bar, at most ten times a second; nothing when stderr is not a terminal. */
  void bar(String label, long done, long total) {
    if (!terminal) {
      return;
    }
    long now = System.nanoTime();
    if (done < total && now - lastDraw < REDRAW_NANOS) {
      return;
    }
    synchronized (this) {
      lastDraw = now;
      int filled = total <= 0 ? BAR_WIDTH : (int) (BAR_WIDTH * done / total);
      int percent = total <= 0 ? 100 : (int) (100 * done / total);
      err.print(
          "\r\033[K" + fit(label + " [" + "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled) + "] " + percent + "% " + done + "/" + total));
      err.flush();
      lineOpen = true;
    }
  }

  /** Clears the in-place line so that what follows starts on a clean line. */
  synchronized void done() {
    if (terminal && lineOpen) {
      err.print("\r\033[K");
      err.flush();
      lineOpen = false;
    }
  }
}
