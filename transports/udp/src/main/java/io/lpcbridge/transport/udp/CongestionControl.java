package io.lpcbridge.transport.udp;

/**
 * AIMD congestion control in bytes, after RFC 5681 (slow start, congestion avoidance) with the
 * loss-recovery epochs of RFC 9002 section 7.
 *
 * <ul>
 *   <li>Start at {@link #INITIAL_SEGMENTS} segments (RFC 6928). Below ssthresh every acknowledged
 *       byte adds one byte (slow start); above it the window grows by one segment per window
 *       acknowledged (additive increase).
 *   <li>A loss of a chunk sent after the current recovery epoch began multiplies the window by
 *       {@link #BETA_PERCENT}% (multiplicative decrease; 0.7 is the factor of RFC 9438, which keeps
 *       more of the window than Reno's 0.5 on paths whose loss is random rather than congestion)
 *       and starts a new epoch; further losses from the same flight do not reduce it again.
 *   <li>A retransmission timeout collapses the window to one segment (RFC 5681 loss window).
 *   <li>The window grows only while the sender is limited by it (RFC 7661): an application that
 *       sends little cannot inflate it without limit.
 * </ul>
 *
 * Not thread-safe; owned by one session.
 */
final class CongestionControl {
  static final int INITIAL_SEGMENTS = 10;
  static final int MIN_SEGMENTS = 2;
  /** Multiplicative decrease on a loss event, in percent. */
  static final int BETA_PERCENT = 70;

  private final long segment;
  private long cwnd;
  private long ssthresh = Long.MAX_VALUE;
  /** Chunks sent at or before this transmission order belong to the current recovery epoch. */
  private long recoveryEndOrder = -1;

  CongestionControl(int segmentBytes) {
    this.segment = segmentBytes;
    this.cwnd = INITIAL_SEGMENTS * segment;
  }

  long window() {
    return cwnd;
  }

  boolean inSlowStart() {
    return cwnd < ssthresh;
  }

  /** Whether another chunk may be sent with {@code bytesInFlight} outstanding. */
  boolean canSend(long bytesInFlight) {
    return bytesInFlight < cwnd;
  }

  /**
   * Bytes of chunks sent at transmission order {@code txOrder} were acknowledged.
   *
   * @param windowLimited whether the sender had more to send than the window allowed
   */
  void onAcked(long bytes, long txOrder, boolean windowLimited) {
    if (txOrder <= recoveryEndOrder || !windowLimited) {
      return;
    }
    if (cwnd < ssthresh) {
      cwnd += bytes;
    } else {
      cwnd += Math.max(1, segment * bytes / cwnd);
    }
  }

  /**
   * A chunk sent at {@code txOrder} was declared lost.
   *
   * @param latestOrder the transmission order of the newest chunk sent so far
   * @return whether this started a new loss event (the window was reduced)
   */
  boolean onLost(long txOrder, long latestOrder) {
    if (txOrder <= recoveryEndOrder) {
      return false;
    }
    recoveryEndOrder = latestOrder;
    cwnd = Math.max(cwnd * BETA_PERCENT / 100, MIN_SEGMENTS * segment);
    ssthresh = cwnd;
    return true;
  }

  /** The retransmission timer expired: loss window. */
  void onTimeout(long latestOrder) {
    ssthresh = Math.max(cwnd / 2, MIN_SEGMENTS * segment);
    cwnd = segment;
    recoveryEndOrder = latestOrder;
  }
}
