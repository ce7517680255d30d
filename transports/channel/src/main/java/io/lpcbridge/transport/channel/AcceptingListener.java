package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * A bound stream server socket (JDK or junixsocket) that accepts, once started, on one platform
 * daemon thread and hands each accepted socket to the acceptor as a connection: the listener of
 * tcp's {@code io=jdk} and of unix. Until {@link #start}, the kernel completes handshakes into the
 * backlog. A subclass says how an accepted socket becomes a connection (or is refused), and what
 * else closing releases.
 *
 * @param <C> the accepted channel's type
 */
public abstract class AcceptingListener<C extends SocketChannel> implements Listener {
  private static final System.Logger LOG = System.getLogger(AcceptingListener.class.getName());

  private final ServerSocketChannel server;
  private final Target localTarget;
  private final String threadName;
  private final Object lock = new Object();
  /** Guarded by lock. */
  private boolean started;
  /** Written under lock. */
  private volatile boolean closed;
  /** The accepting thread, once started. Written under lock. */
  private volatile Thread acceptThread;

  /**
   * @param server bound and listening, in blocking mode; belongs to the listener from now on
   * @param localTarget the bound target, ports and paths resolved
   * @param threadName the accepting thread's name
   */
  protected AcceptingListener(ServerSocketChannel server, Target localTarget, String threadName) {
    this.server = server;
    this.localTarget = localTarget;
    this.threadName = threadName;
  }

  /**
   * The connection for an accepted socket, not started; or null if the peer is refused, after
   * closing the socket. Called on the accepting thread, one socket at a time.
   *
   * @throws IOException if the socket cannot be set up; it is then closed and the listener goes on
   */
  protected abstract Connection accepted(C channel) throws IOException;

  /** Why the server socket closed under the listener, for {@link Acceptor#onListenerFailed}. */
  protected String closedUnexpectedly() {
    return "the listening socket on " + localTarget + " closed unexpectedly";
  }

  /** Releases what the listener holds besides the server socket (a socket file). Idempotent. */
  protected void releaseMore() {}

  @Override
  public final Target localTarget() {
    return localTarget;
  }

  @Override
  public final void start(Acceptor acceptor) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("listener on " + localTarget + " is closed");
      }
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + localTarget);
      }
      started = true;
      acceptThread = Thread.ofPlatform().daemon().name(threadName).start(() -> acceptLoop(acceptor));
    }
  }

  private void acceptLoop(Acceptor acceptor) {
    while (!closed) {
      SocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        if (!closed) {
          fail(acceptor, new IOException(closedUnexpectedly(), e));
        }
        return;
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          fail(acceptor, new IOException("listener on " + localTarget + " stopped accepting: " + e.getMessage(), e));
        }
        return;
      }
      if (channel != null) {
        hand(acceptor, channel);
      }
    }
  }

  @SuppressWarnings("unchecked") // the server socket's provider makes channels of type C
  private void hand(Acceptor acceptor, SocketChannel channel) {
    Connection connection;
    try {
      connection = accepted((C) channel);
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "dropped a connection on " + localTarget + " while setting it up", e);
      try {
        channel.close();
      } catch (IOException ignored) {
        // Already failing.
      }
      return;
    }
    if (connection == null) {
      return;
    }
    try {
      acceptor.onConnection(connection);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "acceptor threw on a connection on " + localTarget + "; closing it", e);
      connection.close();
    }
  }

  private void fail(Acceptor acceptor, IOException cause) {
    release();
    try {
      acceptor.onListenerFailed(cause);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "onListenerFailed threw", e);
    }
  }

  /**
   * Closes the server socket and waits (up to a second) for the accepting thread to leave {@code
   * accept}: while a thread is inside that system call the kernel keeps the listening socket
   * alive, so without the wait a connect right after {@code close()} could still be accepted into
   * the backlog (the conformance suite caught it about once in eight runs over JDK sockets).
   */
  @Override
  public final void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    release();
    Thread t = acceptThread;
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void release() {
    try {
      server.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing the listener on " + localTarget, e);
    }
    releaseMore();
  }
}
