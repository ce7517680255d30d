package io.lpcbridge.bench;

import java.util.Locale;

/** Payload sizes as people write them: 64, 1k, 64KiB, 1m. */
final class Sizes {
  private Sizes() {}

  static int parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
    long mult = 1;
    if (t.endsWith("k")) {
      mult = 1024;
      t = t.substring(0, t.length() - 1);
    } else if (t.endsWith("m")) {
      mult = 1024 * 1024;
      t = t.substring(0, t.length() - 1);
    }
    try {
      long v = Long.parseLong(t.trim()) * mult;
      if (v < 16 || v > 16L * 1024 * 1024) {
        throw new IllegalArgumentException("payload size " + text + " is outside 16 B .. 16 MiB");
      }
      return (int) v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("payload size '" + text + "' is not a size like 64, 1k, 64k or 1m");
    }
  }

  static String format(int bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) {
      return bytes / (1024 * 1024) + " MiB";
    }
    if (bytes >= 1024 && bytes % 1024 == 0) {
      return bytes / 1024 + " KiB";
    }
    return bytes + " B";
  }
}
