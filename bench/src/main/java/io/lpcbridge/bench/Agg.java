package io.lpcbridge.bench;

import java.util.Map;

/**
 * One row of the summary: the median over runs of the rows with the same key. Ratios are taken
 * within each run (against references measured in the same run and placement) and their median is
 * shown; null where there is nothing to compare with.
 *
 * @param vsFloor cost of an op here over its floor's: p50 ratio for latency kinds, time per message
 *     ratio for throughput kinds (1.00 = as cheap as the floor)
 * @param vsGrpc how many times faster than stock gRPC ({@link #grpc}): p50 ratio or throughput ratio
 * @param hops wake-ups per op (both processes) above the floor's: the cross-thread hand-offs the
 *     RPC layer adds to the path (latency kinds only)
 * @param loss percent of UDP datagrams dropped each way ({@link Row#loss}); 0 without injected loss
 * @param lossPackets UDP datagrams that passed the loss rules, summed over the runs measured
 * @param lossDropped of those, the ones dropped, summed over the runs measured
 * @param vsLossFree for a row with loss: the share of its loss-free speed it kept, i.e. the same
 *     endpoint's time per op without loss over this row's (throughput with loss over throughput
 *     without, for streams), taken within each run; null without loss
 */
record Agg(
    String placement,
    String series,
    String stack,
    String transport,
    String idle,
    int loss,
    long lossPackets,
    long lossDropped,
    String kind,
    String mode,
    int size,
    int concurrency,
    int runs,
    Double p50,
    Double p99,
    Double p999,
    Double max,
    double opsPerSec,
    double mbPerSec,
    double cpuClient,
    double cpuServer,
    double wakeupsClient,
    double wakeupsServer,
    Double hops,
    Double vsFloor,
    Double vsGrpc,
    Double vsLossFree,
    String floor,
    String grpc,
    Map<String, Double> threadsClient,
    Map<String, Double> threadsServer,
    String error) {

  boolean ok() {
    return error == null;
  }

  /** Dropped over seen, in percent: the loss actually applied; null when nothing was counted. */
  Double lossApplied() {
    return lossPackets == 0 ? null : 100.0 * lossDropped / lossPackets;
  }

  double wakeups() {
    return wakeupsClient + wakeupsServer;
  }

  boolean is(String kind, int size, int concurrency, String mode) {
    return this.kind.equals(kind) && this.size == size && this.concurrency == concurrency && this.mode.equals(mode);
  }
}
