package io.lpcbridge.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import sun.misc.Signal;

/**
 * Waits for SIGINT or SIGTERM so {@code bridge serve} can shut down gracefully and exit 0. A
 * second signal while stopping runs {@code hurry} (cancel the calls still running).
 *
 * <p>Handling the signals (rather than a shutdown hook) is what lets the process exit with 0 after
 * an orderly stop instead of 128+signal; where the JVM will not hand them over (e.g. {@code -Xrs})
 * a shutdown hook waits for the stop instead.
 */
final class StopSignal {
  private final CountDownLatch requested = new CountDownLatch(1);
  private final CountDownLatch stopped = new CountDownLatch(1);
  private final Runnable hurry;
  private volatile String name;

  private StopSignal(Runnable hurry) {
    this.hurry = hurry;
  }

  static StopSignal install(Runnable hurry) {
    StopSignal s = new StopSignal(hurry);
    try {
      Signal.handle(new Signal("TERM"), s::onSignal);
      Signal.handle(new Signal("INT"), s::onSignal);
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    s.trigger("shutdown");
                    try {
                      s.stopped.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException ie) {
                      Thread.currentThread().interrupt();
                    }
                  },
                  "bridge-serve-stop"));
    }
    return s;
  }

  private void onSignal(Signal signal) {
    if (requested.getCount() == 0) {
      hurry.run();
    } else {
      trigger("SIG" + signal.getName());
    }
  }

  private void trigger(String what) {
    name = what;
    requested.countDown();
  }

  /** Blocks until a stop is requested; returns what requested it, e.g. {@code SIGTERM}. */
  String await() throws InterruptedException {
    requested.await();
    return name;
  }

  /** Tells a waiting shutdown hook that the orderly stop is complete. */
  void stopped() {
    stopped.countDown();
  }
}
