package io.lpcbridge.bench;

/**
 * One measurement: an endpoint, a call kind and its parameters, and the time spent on it.
 *
 * @param endpoint the endpoint's id
 * @param size payload bytes per message, each way (a unary response echoes the request)
 * @param concurrency calls (or streams) in flight at once
 * @param rateFraction for {@link Mode#FIXED}: the fixed rate as a fraction of the closed-loop
 *     throughput measured for the same endpoint and size just before, in the same client process
 * @param warmupMillis load offered before measuring
 * @param measureMillis the measured window
 */
record Scenario(
    String endpoint,
    Kind kind,
    Mode mode,
    int size,
    int concurrency,
    double rateFraction,
    long warmupMillis,
    long measureMillis) {

  String label() {
    return kind.label() + " " + Sizes.format(size) + " x" + concurrency + (mode == Mode.FIXED ? " fixed-rate" : "");
  }
}
