package io.lpcbridge.transport.shm;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * How a connection's reader thread waits when its ring is empty: the value of the transport option
 * {@code idle}. Each end picks its own; they interoperate in any mix, because a sender rings the
 * peer's doorbell only when the peer announced that it sleeps.
 *
 * <p>Measured in C on this project's 2-vCPU VM (issue 3), for two processes:
 *
 * <table>
 *   <caption>round trip by placement</caption>
 *   <tr><th>strategy</th><th>separate vCPUs</th><th>one vCPU</th></tr>
 *   <tr><td>spin ~20 µs, then futex</td><td>0.57 µs</td><td>34 µs</td></tr>
 *   <tr><td>futex, no spin</td><td>78 µs</td><td>2.7 µs</td></tr>
 *   <tr><td>busy-spin</td><td>0.56 µs</td><td>8 ms</td></tr>
 * </table>
 *
 * No fixed strategy wins both columns; {@link #ADAPTIVE} tries to.
 */
public enum IdleStrategy {
  /**
   * The default. Like {@link #BLOCK} with a 20 µs spin, except that it does not spin at all while
   * the peer's reader last ran on this thread's CPU (spinning there only delays the peer), so it
   * takes the better row of the table above in either placement. An idle connection costs no CPU;
   * a busy one makes no system call.
   */
  ADAPTIVE("adaptive"),
  /**
   * Spins for the {@code spinTime} option (default 20 µs), then sleeps on a futex until the peer
   * rings. {@code spinTime=0} sleeps at once (best when both ends share one CPU).
   */
  BLOCK("block"),
  /**
   * Spins a little, yields, then parks with exponential back-off up to 1 ms, Agrona's {@code
   * BackoffIdleStrategy}. Needs no wake-up from the peer, so a message can wait up to the back-off
   * before it is seen; an idle connection wakes about a thousand times a second.
   */
  YIELD("yield"),
  /**
   * Busy-spins, always: the lowest latency when each end has a CPU of its own, and one CPU burnt per
   * connection end for as long as the connection is open, idle or not.
   */
  SPIN("spin");

  /** The transport option naming the strategy. */
  public static final String OPTION = "idle";
  /** The strategy when the option is not set. */
  public static final IdleStrategy DEFAULT = ADAPTIVE;

  private final String optionValue;

  IdleStrategy(String optionValue) {
    this.optionValue = optionValue;
  }

  /** The value of the {@code idle} option that selects this strategy, e.g. {@code adaptive}. */
  public String optionValue() {
    return optionValue;
  }

  /**
   * Parses an {@code idle} option value; null gives {@link #DEFAULT}.
   *
   * @throws IllegalArgumentException naming the value and the ones that are understood
   */
  public static IdleStrategy parse(String value) {
    if (value == null) {
      return DEFAULT;
    }
    String v = value.trim().toLowerCase(Locale.ROOT);
    for (IdleStrategy s : values()) {
      if (s.optionValue.equals(v)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "transport option " + OPTION + "='" + value + "' is not an idle strategy; use one of "
            + Arrays.stream(values()).map(IdleStrategy::optionValue).collect(Collectors.joining(", ")));
  }

  static IdleStrategy fromCode(int code) {
    IdleStrategy[] all = values();
    return code >= 0 && code < all.length ? all[code] : null;
  }

  int code() {
    return ordinal();
  }

  @Override
  public String toString() {
    return optionValue;
  }
}
