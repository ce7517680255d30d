package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * Named endpoints inside one process ({@code pipe:@name}, {@code socketpair:@name}): {@link #bind}
 * takes a name, {@link #connect} makes a connected pair of connections with the transport's real
 * channel (two pipes, a socketpair) and hands one end to the listener. For two components of one
 * process, and for running the conformance suite against the transport's channel.
 */
public final class InProcessEndpoints {
  /** Opens both ends of a new channel: {@code [client, server]}, neither started. */
  @FunctionalInterface
  public interface PairFactory {
    Connection[] open() throws IOException;
  }

  private final String transportName;
  private final ConcurrentHashMap<String, Endpoint> bound = new ConcurrentHashMap<>();

  public InProcessEndpoints(String transportName) {
    this.transportName = transportName;
  }

  /**
   * Binds {@code name}.
   *
   * @throws BindException if a listener in this process has it
   */
  public Listener bind(String name, Target target) throws BindException {
    Endpoint e = new Endpoint(name, target);
    if (bound.putIfAbsent(name, e) != null) {
      throw new BindException("address in use: a " + transportName + " listener in this process is already bound to " + target);
    }
    return e;
  }

  /**
   * Connects to the listener bound to {@code name}.
   *
   * @throws ConnectException naming the target if none is
   */
  public Connection connect(String name, Target target, PairFactory pairs) throws IOException {
    Endpoint e = bound.get(name);
    if (e == null) {
      throw new ConnectException(
          "cannot connect to " + target + ": no " + transportName + " listener in this process is bound to @" + name
              + " (an @name target pairs two components of one process)");
    }
    Connection[] pair = pairs.open();
    if (!e.offer(pair[1])) {
      pair[0].close();
      pair[1].close();
      throw new ConnectException("cannot connect to " + target + ": its listener closed");
    }
    return pair[0];
  }

  private final class Endpoint implements Listener {
    private final String name;
    private final Target target;
    private final BlockingQueue<Connection> backlog = new LinkedBlockingQueue<>();
    private final Object lock = new Object();
    /** Guarded by lock. */
    private boolean started;
    /** Guarded by lock. */
    private boolean closed;
    /** Guarded by lock. */
    private Thread acceptor;

    Endpoint(String name, Target target) {
      this.name = name;
      this.target = target;
    }

    boolean offer(Connection c) {
      synchronized (lock) {
        return !closed && backlog.add(c);
      }
    }

    @Override
    public Target localTarget() {
      return target;
    }

    @Override
    public void start(Acceptor a) {
      synchronized (lock) {
        if (closed) {
          throw new IllegalStateException("listener on " + target + " is closed");
        }
        if (started) {
          throw new IllegalStateException("start() was already called on the listener on " + target);
        }
        started = true;
        acceptor = new Thread(() -> accept(a), transportName + " accept " + target);
        acceptor.setDaemon(true);
        acceptor.start();
      }
    }

    private void accept(Acceptor a) {
      try {
        while (true) {
          Connection c = backlog.take();
          try {
            a.onConnection(c);
          } catch (RuntimeException e) {
            c.close();
          }
        }
      } catch (InterruptedException e) {
        // Closed.
      }
    }

    @Override
    public void close() {
      synchronized (lock) {
        if (closed) {
          return;
        }
        closed = true;
        bound.remove(name, this);
        if (acceptor != null) {
          acceptor.interrupt();
        }
      }
      for (Connection c; (c = backlog.poll()) != null; ) {
        c.close();
      }
    }
  }
}
