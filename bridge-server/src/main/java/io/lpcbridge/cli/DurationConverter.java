package io.lpcbridge.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code 250ms}, {@code 5s}, {@code 1.5s}, {@code 2m}, {@code 1h} or ISO-8601 {@code PT5S}. */
final class DurationConverter implements ITypeConverter<Duration> {
  private static final Pattern SIMPLE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(us|ms|s|m|h)");

  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  static Duration parse(String value) {
    String v = value.trim();
    Duration d;
    if (v.startsWith("P") || v.startsWith("p")) {
      try {
        d = Duration.parse(v);
      } catch (DateTimeParseException e) {
        throw invalid(value);
      }
    } else {
      Matcher m = SIMPLE.matcher(v);
      if (!m.matches()) {
        throw invalid(value);
      }
      double n = Double.parseDouble(m.group(1));
      long nanosPerUnit =
          switch (m.group(2)) {
            case "us" -> 1_000L;
            case "ms" -> 1_000_000L;
            case "s" -> 1_000_000_000L;
            case "m" -> 60_000_000_000L;
            default -> 3_600_000_000_000L;
          };
      d = Duration.ofNanos(Math.round(n * nanosPerUnit));
    }
    if (d.isNegative() || d.isZero()) {
      throw new TypeConversionException("'" + value + "' is not a positive duration");
    }
    return d;
  }

  private static TypeConversionException invalid(String value) {
    return new TypeConversionException("'" + value + "' is not a duration: write e.g. 250ms, 5s, 1.5s, 2m or PT5S");
  }
}
