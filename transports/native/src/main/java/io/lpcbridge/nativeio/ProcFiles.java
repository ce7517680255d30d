package io.lpcbridge.nativeio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Kernel tunables under {@code /proc/sys}. */
public final class ProcFiles {
  private ProcFiles() {}

  /**
   * The number in a one-value {@code /proc} file, e.g. {@code /proc/sys/fs/pipe-max-size}.
   *
   * @throws IOException when the file cannot be read or holds no number
   */
  public static long readLong(Path path) throws IOException {
    // Not Files.readString: it sizes its read by the file's length, which /proc reports wrongly
    // (it read "1" of "1048576" here).
    try (var in = Files.newInputStream(path)) {
      return Long.parseLong(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
    } catch (NumberFormatException e) {
      throw new IOException("cannot parse " + path + ": " + e.getMessage(), e);
    }
  }
}
