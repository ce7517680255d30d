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

  /** Wake-ups per op, both processes together. */
  double wakeups() {
    return wakeupsClient + wakeupsServer;
  }

  boolean ok() {
    return error == null;
  }
}
