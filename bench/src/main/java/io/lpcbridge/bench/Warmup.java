package io.lpcbridge.bench;

/**
 * How the first scenario of each call kind on an endpoint warms up, in a client process: its code
 * paths run cold on both sides, so it gets at least {@code firstMillis} of load, then goes on in
 * slices of {@code sliceMillis} until at least {@code minOps} operations have completed, two
 * successive slices completed within 10% of each other, and the JIT compilers of client and server
 * together spent at most {@code jitQuietMillis} in the last slice; or until {@code maxMillis} more
 * have passed.
 *
 * <p>A time-only warm-up favours the lightest stack: a heavier one (stock gRPC here) is still
 * being compiled, and so measured slow, when the window opens. The rate alone is not enough
 * either: on code compiled by C1 it can hold steady for seconds before C2 takes over
 * (server-streaming measured first on an endpoint ran at 36,950-84,330 msg/s over bridge/tcp in 9
 * runs of 10, and at 433,800-557,000 in 4 runs of 4 with the {@link #steady} wait).
 *
 * @param bounded whether this is a quick run's bounded warm-up, whose figures are indicative only
 * @param firstMillis the least load before the first slice
 * @param minOps warm-up operations after which the JIT has compiled a call path (C2 compiles after
 *     about 10,000 invocations)
 * @param sliceMillis the length of a slice
 * @param maxMillis how long the slices may go on at most
 * @param jitQuietMillis JIT compile time, client and server together, below which a slice counts
 *     as quiet
 */
record Warmup(boolean bounded, long firstMillis, long minOps, long sliceMillis, long maxMillis, long jitQuietMillis) {

  /** The warm-up of the full sweep and of {@code --goals}: until steady and compiled. */
  static Warmup steady(long warmupMillis) {
    return new Warmup(false, Math.max(warmupMillis, 1000), 20_000, 500, 20_000, 10);
  }

  /**
   * The warm-up of {@code --quick}: a short one, bounded to about a second per endpoint and call
   * kind, so that every transport is measured in about a minute. A stack may still be
   * JIT-compiling when its window opens, and the heavier the stack the more that costs it, so the
   * figures are indicative; reports say so. The stock-gRPC baseline gets {@link #quickBaseline}.
   */
  static Warmup quick(long warmupMillis) {
    return new Warmup(true, Math.max(warmupMillis, 250), 2_000, 100, 800, 2);
  }

  /**
   * The warm-up of {@code --quick} for the first stock-gRPC endpoint of each call kind: the
   * {@link #steady} rule, cut off after 5 s instead of 20. Stock gRPC is the heaviest stack and the
   * one every row is compared with; a cold baseline would flatter the bridge. Warming it until
   * steady took up to 14 s per call kind here, most of a quick run.
   */
  static Warmup quickBaseline(long warmupMillis) {
    Warmup steady = steady(warmupMillis);
    return new Warmup(true, steady.firstMillis, steady.minOps, steady.sliceMillis, 5_000, steady.jitQuietMillis);
  }
}
