package io.lpcbridge.transport.udp;

/**
 * The retransmission timeout of RFC 6298, in nanoseconds.
 *
 * <ul>
 *   <li>First sample R: SRTT = R, RTTVAR = R/2. Later samples: RTTVAR = 3/4 RTTVAR + 1/4 |SRTT -
 *       R|, then SRTT = 7/8 SRTT + 1/8 R (section 2).
 *   <li>RTO = SRTT + max(G, 4 RTTVAR), at least {@code minRto} (section 2.4 allows a minimum
 *       below its recommended 1 s; this transport is built for LANs and loopback, where 1 s would
 *       stall a call for a thousand round trips).
 *   <li>Before any sample RTO is {@link #INITIAL_RTO_NANOS} (250 ms rather than the RFC's 1 s, for
 *       the same reason; the handshake usually provides the first sample anyway).
 *   <li>Each expiry doubles RTO (section 5.5) up to {@link #maxRtoNanos()}; a new sample ends the
 *       backoff (section 5.7). Karn's rule (section 3) is the caller's: it passes samples only from
 *       chunks sent once.
 * </ul>
 *
 * Not thread-safe; owned by one session.
 */
final class RttEstimator {
  static final long INITIAL_RTO_NANOS = 250_000_000L;
  /** Clock granularity G. */
  static final long GRANULARITY_NANOS = 1_000_000L;
  /** Backoff stops doubling here (unless the estimate itself is larger): see {@link #maxRtoNanos()}. */
  static final long MAX_BACKOFF_NANOS = 1_000_000_000L;

  private final long minRtoNanos;
  private long srtt;
  private long rttvar;
  private long latest;
  private boolean hasSample;
  private int backoffShift;

  RttEstimator(long minRtoNanos) {
    this.minRtoNanos = minRtoNanos;
  }

  /** Adds a round-trip sample measured on a chunk (or handshake packet) sent once. */
  void sample(long rttNanos) {
    long r = Math.max(1, rttNanos);
    latest = r;
    if (!hasSample) {
      srtt = r;
      rttvar = r / 2;
      hasSample = true;
    } else {
      rttvar = (3 * rttvar + Math.abs(srtt - r)) / 4;
      srtt = (7 * srtt + r) / 8;
    }
    backoffShift = 0;
  }

  /** The timer expired: double the timeout (up to the cap) until the next sample. */
  void backOff() {
    if (baseRto() << backoffShift < maxRtoNanos()) {
      backoffShift++;
    }
  }

  /** The current timeout, backoff included. */
  long rtoNanos() {
    return Math.min(baseRto() << backoffShift, Math.max(maxRtoNanos(), baseRto()));
  }

  private long baseRto() {
    if (!hasSample) {
      return Math.max(INITIAL_RTO_NANOS, minRtoNanos);
    }
    return Math.max(minRtoNanos, srtt + Math.max(GRANULARITY_NANOS, 4 * rttvar));
  }

  /**
   * The cap on a backed-off timeout: 1 s, or the estimate itself when the path is slower than that.
   * RFC 6298 allows a cap of 60 s or more; here liveness is the idle timeout's job (seconds), so
   * backing off further would only delay recovery after an outage.
   */
  long maxRtoNanos() {
    return Math.max(MAX_BACKOFF_NANOS, minRtoNanos);
  }

  boolean hasSample() {
    return hasSample;
  }

  long smoothedRttNanos() {
    return srtt;
  }

  long rttVarNanos() {
    return rttvar;
  }

  long latestRttNanos() {
    return latest;
  }

  int backoffShift() {
    return backoffShift;
  }
}
