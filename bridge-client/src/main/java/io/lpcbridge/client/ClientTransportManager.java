package io.lpcbridge.client;

import io.grpc.ConnectivityState;
import io.grpc.Status;
import io.lpcbridge.core.SessionListener;
import io.lpcbridge.core.SessionOptions;
import io.lpcbridge.core.SharedResources;
import io.lpcbridge.core.WireSession;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Owns a channel's connection to its target: connects on first use, hands the session to calls,
 * reconnects with exponential backoff after failures, and drains on shutdown.
 *
 * <h2>States</h2>
 *
 * As gRPC's: IDLE until a call needs a connection; CONNECTING while one is being made (calls wait);
 * READY with an open session; TRANSIENT_FAILURE after a failed attempt (fail-fast calls fail at
 * once with UNAVAILABLE, wait-for-ready calls wait, and the next attempt follows after a backoff);
 * SHUTDOWN. A connection that was READY and then dropped returns the channel to IDLE: the calls on
 * it fail with UNAVAILABLE and the next call connects again.
 *
 * <h2>Idle mode</h2>
 *
 * As gRPC's {@code idleTimeout}: a connection that has carried no call for that long (none open,
 * none handed out) is closed and the channel returns to IDLE; the next call connects again. A
 * timer looks at the current connection once per idle timeout, counting from its last use.
 *
 * <p>All state is guarded by {@code this}; calls are told about sessions outside the lock.
 */
final class ClientTransportManager implements SessionListener {
  /** Backoff as gRPC's connection-backoff spec: initial, multiplier 1.6, jitter 0.2, maximum. */
  record Backoff(Duration initial, Duration max) {
    static final double MULTIPLIER = 1.6;
    static final double JITTER = 0.2;
  }

  private final Target target;
  private final TransportProvider provider;
  private final TransportOptions transportOptions;
  private final SessionOptions sessionOptions;
  private final Backoff backoff;
  /** Idle mode after this long without calls; 0: never. */
  private final long idleNanos;
  private final Executor connector = SharedResources.blockingExecutor();

  private ConnectivityState state = ConnectivityState.IDLE;
  private WireSession current;
  private final Set<WireSession> sessions = new HashSet<>();
  private final Map<BridgeClientCall<?, ?>, Boolean> pending = new LinkedHashMap<>();
  private final List<Runnable> stateWatchers = new ArrayList<>();
  private Status lastFailure;
  private long nextBackoffNanos;
  private boolean shutdown;
  private boolean connecting;
  /** When the current session was last handed to a call or seen carrying one. */
  private long lastUseNanos;
  private final CountDownLatch terminated = new CountDownLatch(1);

  /** @param idleTimeout idle mode after this long without calls; zero: never */
  ClientTransportManager(
      Target target, TransportProvider provider, TransportOptions transportOptions, SessionOptions sessionOptions, Backoff backoff,
      Duration idleTimeout) {
    this.target = target;
    this.provider = provider;
    this.transportOptions = transportOptions;
    this.sessionOptions = sessionOptions;
    this.backoff = backoff;
    this.idleNanos = idleTimeout.toNanos();
    this.nextBackoffNanos = backoff.initial().toNanos();
  }

  Target target() {
    return target;
  }

  /** Gives {@code call} a session now or when one is ready, or fails it. */
  void obtainSession(BridgeClientCall<?, ?> call, boolean waitForReady) {
    WireSession s = null;
    Status failure = null;
    synchronized (this) {
      if (shutdown) {
        failure = Status.UNAVAILABLE.withDescription("Channel shutdown invoked");
      } else if (current != null && current.isOpen()) {
        s = current;
        lastUseNanos = System.nanoTime();
      } else {
        if (current != null) {
          current = null;
          setState(ConnectivityState.IDLE);
        }
        if (state == ConnectivityState.TRANSIENT_FAILURE && !waitForReady) {
          failure = lastFailure;
        } else {
          pending.put(call, waitForReady);
          if (!connecting) {
            startConnect();
          }
        }
      }
    }
    if (s != null) {
      call.onSession(s);
    } else if (failure != null) {
      call.onSessionFailure(failure);
    }
  }

  /** A pending call was cancelled before it got a session. */
  synchronized void forget(BridgeClientCall<?, ?> call) {
    pending.remove(call);
    maybeTerminated();
  }

  synchronized ConnectivityState getState(boolean requestConnection) {
    if (requestConnection && state == ConnectivityState.IDLE && !shutdown && !connecting) {
      startConnect();
    }
    return state;
  }

  synchronized void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
    if (state != source) {
      connector.execute(callback);
    } else {
      stateWatchers.add(callback);
    }
  }

  private void setState(ConnectivityState s) {
    if (state == s) {
      return;
    }
    state = s;
    List<Runnable> watchers = List.copyOf(stateWatchers);
    stateWatchers.clear();
    for (Runnable r : watchers) {
      connector.execute(r);
    }
  }

  private void startConnect() {
    connecting = true;
    setState(ConnectivityState.CONNECTING);
    connector.execute(this::connect);
  }

  private void connect() {
    WireSession session = null;
    Status failure = null;
    try {
      Connection c = provider.connect(target, transportOptions);
      session = WireSession.client(c, sessionOptions, this, SharedResources.timer());
      session.start();
    } catch (IOException | RuntimeException e) {
      String why = String.valueOf(e.getMessage());
      // Transports name the target in their messages already; do not say it twice.
      failure =
          Status.UNAVAILABLE
              .withDescription(why.contains(target.toString()) ? why : "cannot connect to " + target + ": " + why)
              .withCause(e);
    }
    List<BridgeClientCall<?, ?>> ready = new ArrayList<>();
    List<BridgeClientCall<?, ?>> failed = new ArrayList<>();
    synchronized (this) {
      connecting = false;
      if (failure == null && shutdown && pending.isEmpty()) {
        session.shutdownNow(Status.UNAVAILABLE.withDescription("Channel shutdown invoked"));
        maybeTerminated();
        return;
      }
      if (failure == null) {
        current = session;
        sessions.add(session);
        lastUseNanos = System.nanoTime();
        if (idleNanos > 0 && !shutdown) {
          scheduleIdleCheck(session, idleNanos);
        }
        nextBackoffNanos = backoff.initial().toNanos();
        setState(shutdown ? ConnectivityState.SHUTDOWN : ConnectivityState.READY);
        ready.addAll(pending.keySet());
        pending.clear();
        if (shutdown) {
          session.shutdown();
        }
      } else {
        lastFailure = failure;
        for (var it = pending.entrySet().iterator(); it.hasNext(); ) {
          var e = it.next();
          if (!e.getValue() || shutdown) {
            failed.add(e.getKey());
            it.remove();
          }
        }
        if (!shutdown) {
          setState(ConnectivityState.TRANSIENT_FAILURE);
          scheduleReconnect();
        }
        maybeTerminated();
      }
    }
    for (BridgeClientCall<?, ?> call : ready) {
      call.onSession(session);
    }
    for (BridgeClientCall<?, ?> call : failed) {
      call.onSessionFailure(failure);
    }
  }

  private void scheduleReconnect() {
    long base = nextBackoffNanos;
    nextBackoffNanos = (long) Math.min(backoff.max().toNanos(), base * Backoff.MULTIPLIER);
    long jitter = (long) (base * Backoff.JITTER);
    long delay = base + (jitter > 0 ? ThreadLocalRandom.current().nextLong(-jitter, jitter + 1) : 0);
    SharedResources.timer()
        .schedule(
            () -> {
              synchronized (this) {
                if (shutdown || connecting || state != ConnectivityState.TRANSIENT_FAILURE) {
                  return;
                }
                if (pending.isEmpty()) {
                  // Nobody is waiting: connect again on the next call, as gRPC does.
                  setState(ConnectivityState.IDLE);
                } else {
                  startConnect();
                }
              }
            },
            Math.max(0, delay),
            TimeUnit.NANOSECONDS);
  }

  private void scheduleIdleCheck(WireSession session, long delayNanos) {
    SharedResources.timer().schedule(() -> idleCheck(session), Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
  }

  /** Enters idle mode if {@code session}, still the current one, has carried no call for the idle timeout. */
  private void idleCheck(WireSession session) {
    synchronized (this) {
      if (shutdown || current != session) {
        return; // gone already; a new session has its own check
      }
      long now = System.nanoTime();
      if (session.activeStreams() > 0 || !pending.isEmpty()) {
        lastUseNanos = now; // busy: the idle time counts from now at the earliest
      }
      long quiet = now - lastUseNanos;
      if (quiet < idleNanos) {
        scheduleIdleCheck(session, idleNanos - quiet);
        return;
      }
      current = null;
      setState(ConnectivityState.IDLE);
    }
    session.shutdown(); // no stream is open: the connection closes now
  }

  @Override
  public void onGoAway(WireSession session, int code, String reason) {
    synchronized (this) {
      if (current == session) {
        current = null;
        if (!shutdown) {
          setState(ConnectivityState.IDLE);
        }
      }
    }
  }

  @Override
  public void onClosed(WireSession session, Status status) {
    synchronized (this) {
      sessions.remove(session);
      if (current == session) {
        current = null;
        if (!shutdown) {
          setState(ConnectivityState.IDLE);
        }
      }
      maybeTerminated();
    }
  }

  void shutdown() {
    List<WireSession> toDrain;
    synchronized (this) {
      if (shutdown) {
        return;
      }
      shutdown = true;
      setState(ConnectivityState.SHUTDOWN);
      toDrain = new ArrayList<>(sessions);
      maybeTerminated();
    }
    for (WireSession s : toDrain) {
      s.shutdown();
    }
  }

  void shutdownNow() {
    shutdown();
    Status status = Status.UNAVAILABLE.withDescription("Channel shutdownNow invoked");
    List<WireSession> toKill;
    List<BridgeClientCall<?, ?>> waiting;
    synchronized (this) {
      toKill = new ArrayList<>(sessions);
      waiting = new ArrayList<>(pending.keySet());
      pending.clear();
      maybeTerminated();
    }
    for (BridgeClientCall<?, ?> call : waiting) {
      call.onSessionFailure(status);
    }
    for (WireSession s : toKill) {
      s.shutdownNow(status);
    }
  }

  synchronized boolean isShutdown() {
    return shutdown;
  }

  boolean isTerminated() {
    return terminated.getCount() == 0;
  }

  boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return terminated.await(timeout, unit);
  }

  private void maybeTerminated() {
    if (shutdown && sessions.isEmpty() && pending.isEmpty() && !connecting) {
      terminated.countDown();
    }
  }
}
