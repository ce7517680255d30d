package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.TransportOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;

/**
 * The shm transport's own options, parsed and checked once per listener or connection.
 *
 * @param idle the reader thread's idle strategy ({@code idle})
 * @param spinNanos how long {@link IdleStrategy#BLOCK} spins before it sleeps ({@code spinTime})
 * @param ringSize bytes per ring ({@code ringSize}); 0 when not set (a client then takes the
 *     server's)
 * @param dir the directory holding rendezvous sockets ({@code dir}); null for the default
 * @param allowUids user ids admitted besides this process's own and root ({@code allowUids})
 */
record ShmOptions(IdleStrategy idle, long spinNanos, int ringSize, Path dir, Set<Long> allowUids) {
  static final String SPIN_TIME = "spinTime";
  static final String RING_SIZE = "ringSize";
  static final String DIR = "dir";
  static final String ALLOW_UIDS = "allowUids";
  static final Set<String> NAMES = Set.of(IdleStrategy.OPTION, SPIN_TIME, RING_SIZE, DIR, ALLOW_UIDS);

  static final int DEFAULT_RING_SIZE = 1024 * 1024;
  static final Duration DEFAULT_SPIN_TIME = Duration.ofNanos(20_000);
  static final Duration MAX_SPIN_TIME = Duration.ofSeconds(1);

  /**
   * Parses and checks every option, common ones included.
   *
   * @throws IllegalArgumentException naming the option, its value and what is expected
   */
  static ShmOptions parse(TransportOptions options) {
    options.checkKnown(ShmTransportProvider.NAME, NAMES);
    options.maxMessageSize();
    options.connectTimeout();
    options.linger();
    int hwm = options.writeHighWaterMark();
    if (hwm < 1) {
      throw new IllegalArgumentException("transport option writeHighWaterMark=" + hwm + " must be positive");
    }
    IdleStrategy idle = IdleStrategy.parse(options.get(IdleStrategy.OPTION, null));
    // A bare 0 means no spin; any other value needs a unit, as the SPI's durations do.
    Duration spin =
        options.get(SPIN_TIME, "").trim().equals("0") ? Duration.ZERO : options.getDuration(SPIN_TIME, DEFAULT_SPIN_TIME);
    if (spin.isNegative() || spin.compareTo(MAX_SPIN_TIME) > 0) {
      throw new IllegalArgumentException(
          "transport option " + SPIN_TIME + "=" + options.get(SPIN_TIME, "") + " must be between 0 and 1s (e.g. 0, 20us, 50us)");
    }
    int ring = 0;
    if (options.has(RING_SIZE)) {
      ring = SegmentDescriptor.checkCapacity(options.getInt(RING_SIZE, 0), "transport option " + RING_SIZE + "=");
    }
    String dirText = options.get(DIR, null);
    Path dir = null;
    if (dirText != null) {
      if (dirText.isBlank() || !Path.of(dirText).isAbsolute()) {
        throw new IllegalArgumentException("transport option " + DIR + "='" + dirText + "' must be an absolute directory path");
      }
      dir = Path.of(dirText).normalize();
    }
    return new ShmOptions(idle, spin.toNanos(), ring, dir, parseUids(options.get(ALLOW_UIDS, null)));
  }

  private static Set<Long> parseUids(String text) {
    Set<Long> uids = new TreeSet<>();
    if (text == null || text.isBlank()) {
      return Set.of();
    }
    for (String part : text.split(",")) {
      String t = part.trim();
      try {
        long uid = Long.parseLong(t);
        if (uid < 0 || uid > 0xFFFF_FFFEL) {
          throw new NumberFormatException();
        }
        uids.add(uid);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "transport option " + ALLOW_UIDS + "='" + text + "': '" + t + "' is not a numeric user id"
                + " (write e.g. allowUids=1001,1002)");
      }
    }
    return Set.copyOf(uids);
  }

  /** The ring size a server uses when the client asks for none. */
  int serverRingSize() {
    return ringSize == 0 ? DEFAULT_RING_SIZE : ringSize;
  }
}
