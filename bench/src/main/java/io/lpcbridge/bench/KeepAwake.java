package io.lpcbridge.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * A thread in every benchmark process that wakes at a fixed period and does nothing else, so that
 * every stack is measured on the same wake-up latency.
 *
 * <p>Why: in this project's VMs a thread woken on a vCPU that was itself woken within the last
 * millisecond answers about 10 µs sooner than one woken on a vCPU that had been idle longer (the
 * host's halt polling, as far as we can tell). The bridge's own threads tick at about 1 ms while
 * calls flow (the reader thread standing aside for inline receivers parks in 1 ms slices; the
 * reader watchdog), so without this the bridge was measured on the faster wake-ups and its floors
 * and stock gRPC, which do not tick, on the slower ones: on 2026-12-07, raw/unix unary 64 B took
 * 44.7-45.4 µs at p50 without a ticker and 34.9-39.6 µs with one, and bridge/unix measured 0.83-0.93x
 * its floor without it, 0.98-1.22x with it (six single quick runs: two without, four with). The period is {@code
 * bridge.bench.keepAwakeMicros} (0: no thread), which {@code bridge bench --keep-awake} sets and
 * {@link Jvm#command} passes to every child.
 */
final class KeepAwake {
  static final String PROPERTY = "bridge.bench.keepAwakeMicros";

  private KeepAwake() {}

  /** Starts the thread if {@link #PROPERTY} asks for one. */
  static void startIfAsked() {
    long micros = Long.getLong(PROPERTY, 0);
    if (micros <= 0) {
      return;
    }
    long nanos = micros * 1_000;
    Thread.ofPlatform().daemon().name("bench-keep-awake").start(() -> {
      while (true) {
        LockSupport.parkNanos(nanos);
      }
    });
  }
}
