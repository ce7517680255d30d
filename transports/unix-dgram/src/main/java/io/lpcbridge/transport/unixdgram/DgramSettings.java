package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.TransportOptions;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Set;

/**
 * The unix+dgram options.
 *
 * @param datagramSize {@value #DATAGRAM_SIZE}: the largest datagram this side sends (header
 *     included); the two sides use the smaller of theirs. Default 64 KiB.
 * @param keepAlive {@value #KEEP_ALIVE}: after this long with nothing received, probe the peer; a
 *     dead peer's socket refuses the probe at once. Default 1 s.
 * @param mode {@value #MODE}: the socket file's permissions, default 0600.
 */
record DgramSettings(int datagramSize, Duration keepAlive, Set<PosixFilePermission> mode) {
  static final String DATAGRAM_SIZE = "datagramSize";
  static final String KEEP_ALIVE = "keepAliveInterval";
  static final String MODE = "mode";
  static final Set<String> OPTIONS = Set.of(DATAGRAM_SIZE, KEEP_ALIVE, MODE);
  static final int MIN_DATAGRAM = 1024;
  static final int MAX_DATAGRAM = 4 * 1024 * 1024;

  static DgramSettings of(TransportOptions options) {
    int size = options.getInt(DATAGRAM_SIZE, 64 * 1024);
    if (size < MIN_DATAGRAM || size > MAX_DATAGRAM) {
      throw new IllegalArgumentException(
          "transport option " + DATAGRAM_SIZE + "=" + size + " is outside " + MIN_DATAGRAM + ".." + MAX_DATAGRAM);
    }
    Duration keepAlive = options.getDuration(KEEP_ALIVE, Duration.ofSeconds(1));
    if (keepAlive.compareTo(Duration.ofMillis(10)) < 0) {
      throw new IllegalArgumentException("transport option " + KEEP_ALIVE + "=" + keepAlive + " is below the minimum 10ms");
    }
    String m = options.get(MODE, "0600").trim();
    Set<PosixFilePermission> mode;
    try {
      int bits = Integer.parseInt(m, 8);
      if (bits < 0 || bits > 0777 || !m.startsWith("0")) {
        throw new NumberFormatException();
      }
      StringBuilder rwx = new StringBuilder();
      for (int shift = 6; shift >= 0; shift -= 3) {
        int b = (bits >> shift) & 7;
        rwx.append((b & 4) != 0 ? 'r' : '-').append((b & 2) != 0 ? 'w' : '-').append((b & 1) != 0 ? 'x' : '-');
      }
      mode = PosixFilePermissions.fromString(rwx.toString());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("transport option " + MODE + "='" + m + "' is not an octal mode such as 0600");
    }
    return new DgramSettings(size, keepAlive, mode);
  }
}
