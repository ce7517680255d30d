package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Spawn;
import io.lpcbridge.transport.Connection;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** See {@link ChildConnections#spawned}. */
final class SpawnedPeerConnection extends ForwardingConnection {
  private static final System.Logger LOG = System.getLogger(SpawnedPeerConnection.class.getName());
  /** How long onClosed waits for the exit status of a child whose end closed. */
  private static final long STATUS_WAIT_MILLIS = 500;

  private final Spawn.Child child;
  private final Duration linger;
  private final Duration termGrace;

  SpawnedPeerConnection(Connection delegate, Spawn.Child child, Duration linger, Duration termGrace) {
    super(delegate);
    this.child = child;
    this.linger = linger;
    this.termGrace = termGrace;
  }

  /** A child that died gets named in the cause; an orderly close stays orderly. */
  @Override
  Throwable explain(Throwable cause) {
    if (closeCalled) {
      return cause;
    }
    Spawn.ExitStatus status;
    try {
      status = child.onExit().get(STATUS_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      return cause;
    }
    if (status.isSuccess()) {
      return cause;
    }
    IOException died = new IOException("the worker " + child + " " + status.describe());
    if (cause != null) {
      died.initCause(cause);
    }
    return died;
  }

  /** Reaps the child: the linger time to exit on its own, then SIGTERM, then SIGKILL. */
  @Override
  void afterClosed(Throwable cause) {
    if (!child.isAlive()) {
      return;
    }
    Thread t =
        new Thread(
            () -> {
              try {
                if (waitExit(linger)) {
                  return;
                }
                LOG.log(System.Logger.Level.WARNING, "worker {0} still running {1} ms after its connection closed; sending SIGTERM", child, linger.toMillis());
                child.signal(Spawn.SIGTERM);
                if (!waitExit(termGrace)) {
                  LOG.log(System.Logger.Level.WARNING, "worker {0} ignored SIGTERM; sending SIGKILL", child);
                  child.signal(Spawn.SIGKILL);
                }
              } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "could not stop worker " + child, e);
              }
            },
            "reap " + child);
    t.setDaemon(true);
    t.start();
  }

  private boolean waitExit(Duration d) {
    try {
      child.onExit().get(d.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
