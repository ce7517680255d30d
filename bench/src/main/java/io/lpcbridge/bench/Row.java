package io.lpcbridge.bench;

import java.util.Map;

/**
 * One measured scenario of one run: a line of {@code results.csv} and an element of {@code
 * results.json}. Latencies are in microseconds (null for throughput kinds); "per op" means per call
 * for unary, per exchange for bidi, per message for the streaming kinds.
 *
 * @param wakeupsClient voluntary context switches per op of the client's threads that may be on the
 *     call path (JVM compiler, GC and housekeeping threads and the harness's control excluded): each
 *     is a thread going to sleep to wait for something, so each is later one wake-up
 * @param switchesClient every voluntary context switch of the client process per op (getrusage)
 * @param threadsClient voluntary switches per op by thread name (digits stripped), where at least
 *     0.05 per op, all threads
 * @param loss percent of the endpoint's UDP datagrams dropped at random each way ({@code --loss});
 *     0 for a row measured without injected loss. A row with loss is compared only with the row of
 *     the same endpoint without loss ({@link Agg#vsLossFree}), never with a floor or stock gRPC
 * @param lossPackets UDP datagrams of the endpoint that passed the loss rules during the scenario
 *     (warm-up and measured window, both ways), read from the nftables counters; 0 without loss
 * @param lossDropped of those, the ones the rules dropped: the loss actually applied
 * @param error why the scenario produced no figures, or null
 */
record Row(
    int run,
    String placement,
    String stack,
    String transport,
    String series,
    String target,
    String idle,
    int loss,
    long lossPackets,
    long lossDropped,
    String kind,
    String mode,
    int size,
    int concurrency,
    double rate,
    long ops,
    double seconds,
    Double p50,
    Double p90,
    Double p99,
    Double p999,
    Double max,
    Double mean,
    double opsPerSec,
    double mbPerSec,
    double cpuClient,
    double cpuServer,
    double wakeupsClient,
    double wakeupsServer,
    double switchesClient,
    double switchesServer,
    double preemptionsClient,
    double preemptionsServer,
    Map<String, Double> threadsClient,
    Map<String, Double> threadsServer,
    String error) {

  /** The key rows of several runs are grouped by: everything but the run and the figures. */
  String key() {
    return placement + "|" + series + "|" + kind + "|" + mode + "|" + size + "|" + concurrency;
  }

  /** This row with the loss counters of its scenario. */
  Row withLossCounts(long packets, long dropped) {
    return new Row(run, placement, stack, transport, series, target, idle, loss, packets, dropped, kind, mode, size, concurrency, rate, ops,
        seconds, p50, p90, p99, p999, max, mean, opsPerSec, mbPerSec, cpuClient, cpuServer, wakeupsClient, wakeupsServer, switchesClient,
        switchesServer, preemptionsClient, preemptionsServer, threadsClient, threadsServer, error);
  }

  /** This row failed: no figures, with why. */
  Row withError(String why) {
    return new Row(run, placement, stack, transport, series, target, idle, loss, lossPackets, lossDropped, kind, mode, size, concurrency, 0, 0,
        0, null, null, null, null, null, null, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, Map.of(), Map.of(), why);
  }

  /** Wake-ups per op, both processes together. */
  double wakeups() {
    return wakeupsClient + wakeupsServer;
  }

  boolean ok() {
    return error == null;
  }
}
