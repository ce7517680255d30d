package io.lpcbridge.bench;

import java.util.Locale;

/** How load is offered in a latency scenario. */
enum Mode {
  /** Closed loop: each of the calls in flight is followed by the next as soon as it completes. */
  CLOSED,
  /**
   * Fixed rate, one call in flight: calls are due at fixed intervals, and a call held back by a
   * slow predecessor is timed from when it was due (coordinated-omission correction, as wrk2).
   */
  FIXED;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static Mode parse(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT));
  }
}
