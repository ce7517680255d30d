package io.lpcbridge.bench;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * The phases of one scenario, shared by the client's main thread (which moves them on) and the
 * load (threads or callbacks, which record into it): warm-up, measured window, stop. Only what
 * completes inside the measured window is recorded.
 */
final class Window {
  private static final int WARMUP = 0;
  private static final int MEASURE = 1;
  private static final int STOP = 2;

  private volatile int phase = WARMUP;
  private final Recorder latency = new Recorder(3);
  private final LongAdder ops = new LongAdder();
  /** Operations completed during warm-up, to tell when the code paths have warmed. */
  private final LongAdder warmOps = new LongAdder();
  /** Calls, streams or loops still running; the scenario ends when this reaches zero after stop. */
  final AtomicInteger active = new AtomicInteger();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();

  boolean running() {
    return phase != STOP;
  }

  /** One exchange that took {@code nanos}. */
  void record(long nanos) {
    int p = phase;
    if (p == MEASURE) {
      latency.recordValue(Math.max(0, nanos));
      ops.increment();
    } else if (p == WARMUP) {
      warmOps.increment();
    }
  }

  /** {@code n} messages moved (throughput kinds). */
  void count(long n) {
    int p = phase;
    if (p == MEASURE) {
      ops.add(n);
    } else if (p == WARMUP) {
      warmOps.add(n);
    }
  }

  void fail(Throwable t) {
    failure.compareAndSet(null, t);
    phase = STOP;
  }

  Throwable failure() {
    return failure.get();
  }

  /** Ends warm-up: from now on completions are recorded. */
  void beginMeasure() {
    latency.reset();
    ops.reset();
    phase = MEASURE;
  }

  /** Ends the measured window; returns what it recorded. */
  Histogram endMeasure() {
    Histogram h = latency.getIntervalHistogram();
    phase = STOP;
    return h;
  }

  long ops() {
    return ops.sum();
  }

  /** Operations completed so far during warm-up. */
  long warmOps() {
    return warmOps.sum();
  }

  void stop() {
    phase = STOP;
  }

  /** Waits until every load loop has wound down, or {@code nanos} passed; true if they all did. */
  boolean awaitQuiet(long nanos) {
    long deadline = System.nanoTime() + nanos;
    while (active.get() > 0) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      LockSupport.parkNanos(1_000_000);
    }
    return true;
  }

  /** Sleeps until {@code nanoTime} reaches {@code when} (fixed-rate pacing). */
  static void sleepUntil(long when) {
    for (long left; (left = when - System.nanoTime()) > 0; ) {
      LockSupport.parkNanos(left);
    }
  }
}
