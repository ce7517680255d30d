package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** RFC 6298 by the numbers (milliseconds written as nanoseconds). */
class RttEstimatorTest {
  private static final long MS = 1_000_000L;

  @Test
  void beforeAnySampleTheTimeoutIsTheInitialOne() {
    assertEquals(250 * MS, new RttEstimator(50 * MS).rtoNanos());
    assertEquals(400 * MS, new RttEstimator(400 * MS).rtoNanos(), "never below minRto");
  }

  @Test
  void samplesFollowSection2() {
    RttEstimator r = new RttEstimator(MS);
    r.sample(100 * MS); // SRTT = R, RTTVAR = R/2
    assertEquals(100 * MS, r.smoothedRttNanos());
    assertEquals(50 * MS, r.rttVarNanos());
    assertEquals(300 * MS, r.rtoNanos(), "SRTT + 4 RTTVAR");
    r.sample(200 * MS); // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5
    assertEquals(62_500_000L, r.rttVarNanos());
    assertEquals(112_500_000L, r.smoothedRttNanos());
    assertEquals(362_500_000L, r.rtoNanos());
  }

  @Test
  void theTimeoutHasAFloorAndTheGranularity() {
    RttEstimator r = new RttEstimator(50 * MS);
    r.sample(MS / 10);
    assertEquals(50 * MS, r.rtoNanos(), "minRto");
    RttEstimator fine = new RttEstimator(MS / 10);
    fine.sample(MS / 10);
    for (int i = 0; i < 50; i++) {
      fine.sample(MS / 10); // RTTVAR decays towards 0
    }
    assertEquals(MS / 10 + RttEstimator.GRANULARITY_NANOS, fine.rtoNanos(), "SRTT + G once 4 RTTVAR < G");
  }

  @Test
  void backoffDoublesUpToTheCapAndANewSampleEndsIt() {
    RttEstimator r = new RttEstimator(50 * MS);
    r.sample(2 * MS);
    long[] expected = {50, 100, 200, 400, 800, 1000, 1000};
    for (long e : expected) {
      assertEquals(e * MS, r.rtoNanos());
      r.backOff();
    }
    r.sample(2 * MS);
    assertEquals(50 * MS, r.rtoNanos(), "a sample ends the backoff (section 5.7)");
  }

  @Test
  void aPathSlowerThanTheCapKeepsItsEstimate() {
    RttEstimator r = new RttEstimator(50 * MS);
    r.sample(2000 * MS);
    long base = r.rtoNanos();
    r.backOff();
    assertEquals(base, r.rtoNanos(), "the cap never goes below the estimate");
  }
}
