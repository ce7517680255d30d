package io.lpcbridge.transport;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Options for one listener or connection, as strings (they come from YAML, environment variables
 * and system properties) with typed accessors. The common ones are constants here; each provider
 * lists the others it understands in {@link TransportProvider#supportedOptions()}, and {@link
 * #checkKnown} turns a misspelt key into an error instead of a silent default.
 */
public final class TransportOptions {
  /** Largest message, in bytes, each way. */
  public static final String MAX_MESSAGE_SIZE = "maxMessageSize";
  /** How long {@link TransportProvider#connect} may take, e.g. {@code 5s} or {@code 250ms}. */
  public static final String CONNECT_TIMEOUT = "connectTimeout";
  /** How long {@link Connection#close()} keeps writing queued messages to a peer that is slow to read. */
  public static final String LINGER = "linger";
  /** Queued outbound bytes above which {@link Connection#isWritable()} turns false. */
  public static final String WRITE_HIGH_WATER_MARK = "writeHighWaterMark";

  public static final int DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_LINGER = Duration.ofSeconds(5);
  public static final int DEFAULT_WRITE_HIGH_WATER_MARK = 1024 * 1024;

  /** The options every transport understands. */
  public static final Set<String> COMMON =
      Set.of(MAX_MESSAGE_SIZE, CONNECT_TIMEOUT, LINGER, WRITE_HIGH_WATER_MARK);

  private static final TransportOptions DEFAULTS = new TransportOptions(Map.of());

  private final Map<String, String> values;

  private TransportOptions(Map<String, String> values) {
    this.values = values;
  }

  public static TransportOptions defaults() {
    return DEFAULTS;
  }

  public static TransportOptions of(Map<String, String> values) {
    return new TransportOptions(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
  }

  /** A copy with one option set. */
  public TransportOptions with(String key, Object value) {
    Map<String, String> copy = new LinkedHashMap<>(values);
    copy.put(key, String.valueOf(value));
    return new TransportOptions(Collections.unmodifiableMap(copy));
  }

  /** A copy with {@code overrides} laid over these options. */
  public TransportOptions withAll(Map<String, String> overrides) {
    Map<String, String> copy = new LinkedHashMap<>(values);
    copy.putAll(overrides);
    return new TransportOptions(Collections.unmodifiableMap(copy));
  }

  public Map<String, String> asMap() {
    return values;
  }

  public String get(String key, String defaultValue) {
    return values.getOrDefault(key, defaultValue);
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public int getInt(String key, int defaultValue) {
    String v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    try {
      return Math.toIntExact(parseSize(v.trim()));
    } catch (NumberFormatException | ArithmeticException e) {
      throw new IllegalArgumentException("transport option " + key + "='" + v + "' is not an integer (sizes may end in k, m or g)");
    }
  }

  public boolean getBoolean(String key, boolean defaultValue) {
    String v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("transport option " + key + "='" + v + "' is not a boolean");
    };
  }

  /** A duration written {@code 250ms}, {@code 5s}, {@code 2m}, or an ISO-8601 {@code PT5S}. */
  public Duration getDuration(String key, Duration defaultValue) {
    String v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    try {
      return parseDuration(v.trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("transport option " + key + "='" + v + "' is not a duration (e.g. 250ms, 5s, 2m)");
    }
  }

  public int maxMessageSize() {
    int size = getInt(MAX_MESSAGE_SIZE, DEFAULT_MAX_MESSAGE_SIZE);
    if (size < 1024) {
      throw new IllegalArgumentException("transport option maxMessageSize=" + size + " is below the minimum 1024");
    }
    return size;
  }

  public Duration connectTimeout() {
    return getDuration(CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT);
  }

  public Duration linger() {
    return getDuration(LINGER, DEFAULT_LINGER);
  }

  public int writeHighWaterMark() {
    return getInt(WRITE_HIGH_WATER_MARK, DEFAULT_WRITE_HIGH_WATER_MARK);
  }

  /**
   * Fails on any key that is neither common nor in {@code specific}, listing the keys that are
   * understood.
   */
  public void checkKnown(String transport, Set<String> specific) {
    for (String key : values.keySet()) {
      if (!COMMON.contains(key) && !specific.contains(key)) {
        Set<String> known = new TreeSet<>(COMMON);
        known.addAll(specific);
        throw new IllegalArgumentException(
            "unknown option '" + key + "' for transport " + transport + "; known options: " + known);
      }
    }
  }

  static long parseSize(String v) {
    long mult = 1;
    char last = Character.toLowerCase(v.charAt(v.length() - 1));
    if (last == 'k' || last == 'm' || last == 'g') {
      mult = last == 'k' ? 1024 : last == 'm' ? 1024 * 1024 : 1024L * 1024 * 1024;
      v = v.substring(0, v.length() - 1);
    }
    return Math.multiplyExact(Long.parseLong(v.trim()), mult);
  }

  static Duration parseDuration(String v) {
    if (v.startsWith("P") || v.startsWith("p")) {
      return Duration.parse(v);
    }
    if (v.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2).trim()));
    }
    if (v.endsWith("us")) {
      return Duration.ofNanos(Long.parseLong(v.substring(0, v.length() - 2).trim()) * 1000);
    }
    char unit = v.charAt(v.length() - 1);
    String num = v.substring(0, v.length() - 1).trim();
    return switch (unit) {
      case 's' -> Duration.ofMillis(Math.round(Double.parseDouble(num) * 1000));
      case 'm' -> Duration.ofMinutes(Long.parseLong(num));
      case 'h' -> Duration.ofHours(Long.parseLong(num));
      default -> throw new IllegalArgumentException(v);
    };
  }

  @Override
  public String toString() {
    return values.toString();
  }
}
