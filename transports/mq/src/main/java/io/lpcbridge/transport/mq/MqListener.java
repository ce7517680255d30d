package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.nativeio.Pidfd;
import io.lpcbridge.nativeio.WakePipe;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.DatagramConnections;
import io.lpcbridge.transport.channel.ExitHooks;
import java.io.IOException;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;

/**
 * A server on {@code mq:///name}: holds the request queue (locked, see {@link MqNames}) and opens
 * each client's queue pair on one platform daemon thread.
 */
final class MqListener implements Listener {
  private static final System.Logger LOG = System.getLogger(MqListener.class.getName());
  private static final int BIND_ATTEMPTS = 5;

  private final MqNames names;
  private final TransportOptions options;
  private final int requestQueue;
  private final long inode;
  private final WakePipe wake;
  /** Removes the request queue at JVM exit if close() does not come first. */
  private final Runnable cancelExitHook;
  private final Object lock = new Object();
  /** Guarded by lock. */
  private boolean started;
  /** Written under lock. */
  private volatile boolean closed;

  private MqListener(MqNames names, TransportOptions options, int requestQueue, long inode, WakePipe wake) {
    this.names = names;
    this.options = options;
    this.requestQueue = requestQueue;
    this.inode = inode;
    this.wake = wake;
    this.cancelExitHook = ExitHooks.register("mq listener " + names.target, this::removeQueue);
  }

  static MqListener bind(MqNames names, TransportOptions options, MessageQueues.Limits limits) throws IOException {
    long depth = Math.min(limits.msgMax(), 10);
    for (int attempt = 1; ; attempt++) {
      int mqd;
      try {
        mqd = MessageQueues.open(
            names.name, Fds.O_CREAT | Fds.O_EXCL | Fds.O_RDONLY | Fds.O_NONBLOCK, MqNames.MODE, depth, MqNames.REQUEST_QUEUE_MESSAGE_SIZE);
      } catch (NativeException e) {
        if (e.errno() != Errno.EEXIST) {
          throw new IOException("cannot listen on " + names.target + ": " + e.getMessage(), e);
        }
        if (names.removeIfStale()) {
          LOG.log(System.Logger.Level.INFO, "removed the request queue {0} of a server that is gone", names.name);
          continue;
        }
        // A live server, or a client that holds the dead one's lock while it removes the queue.
        if (attempt >= BIND_ATTEMPTS) {
          throw new BindException("address in use: a server is already listening on " + names.target);
        }
        sleep(Duration.ofMillis(50));
        continue;
      }
      try {
        if (!Fds.flock(mqd, Fds.LOCK_EX | Fds.LOCK_NB)) {
          throw new BindException("address in use: another process locked the new request queue " + names.name);
        }
        long inode = Fds.status(mqd).inode();
        // A client may have removed it as stale between creation and the lock: then start over.
        int again;
        try {
          again = MessageQueues.open(names.name, Fds.O_RDONLY | Fds.O_NONBLOCK, 0, 0, 0);
        } catch (NativeException e) {
          Fds.closeQuietly(mqd);
          continue;
        }
        boolean same = Fds.status(again).inode() == inode;
        Fds.closeQuietly(again);
        if (!same) {
          Fds.closeQuietly(mqd);
          continue;
        }
        return new MqListener(names, options, mqd, inode, new WakePipe());
      } catch (IOException | RuntimeException e) {
        Fds.closeQuietly(mqd);
        MqNames.unlinkQuietly(names.name);
        throw e;
      }
    }
  }

  private static void sleep(Duration d) throws IOException {
    try {
      Thread.sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while binding");
    }
  }

  @Override
  public Target localTarget() {
    return names.target;
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("listener on " + names.target + " is closed");
      }
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + names.target);
      }
      started = true;
    }
    Thread t = new Thread(() -> acceptLoop(acceptor), "mq accept " + names.name);
    t.setDaemon(true);
    t.start();
  }

  private void acceptLoop(Acceptor acceptor) {
    Fds.PollSet set = new Fds.PollSet(2);
    set.set(0, requestQueue, Fds.POLLIN);
    set.set(1, wake.readFd(), Fds.POLLIN);
    ByteBuffer buf = ByteBuffer.allocateDirect(MqNames.REQUEST_QUEUE_MESSAGE_SIZE);
    try {
      while (!closed) {
        int n = MessageQueues.receive(requestQueue, buf.clear());
        if (n < 0) {
          set.poll(-1);
          if ((set.revents(1) & Fds.POLLIN) != 0) {
            wake.drain();
          }
          continue;
        }
        buf.flip();
        if (!MqNames.isRecord(buf, MqNames.REQUEST)) {
          LOG.log(System.Logger.Level.WARNING, "discarded a message of {0} bytes on {1} that is not a version-1 connection request", n, names.name);
          continue;
        }
        accept(acceptor, buf.getLong(MqNames.ID_OFFSET), buf.getInt(MqNames.PID_OFFSET));
      }
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        closed = true;
        release();
        acceptor.onListenerFailed(new IOException("listener on " + names.target + " stopped: " + e.getMessage(), e));
      }
    } finally {
      Fds.closeQuietly(requestQueue);
      wake.close();
    }
  }

  /** Opens one client's pair; a client that is gone or whose queues do not fit is skipped. */
  private void accept(Acceptor acceptor, long id, int pid) {
    String up = names.up(id);
    String down = names.down(id);
    int in = -1;
    int out = -1;
    int pidfd = -1;
    MqDatagramIo io;
    try {
      in = MessageQueues.open(up, Fds.O_RDONLY | Fds.O_NONBLOCK, 0, 0, 0);
      out = MessageQueues.open(down, Fds.O_WRONLY | Fds.O_NONBLOCK, 0, 0, 0);
      MqNames.unlinkQuietly(up);
      MqNames.unlinkQuietly(down);
      long inSize = MessageQueues.attributes(in).messageSize();
      long outSize = MessageQueues.attributes(out).messageSize();
      if (inSize != outSize || inSize < MqSizing.MIN_MESSAGE_SIZE || inSize > 64L * 1024 * 1024) {
        throw new IOException("its queues have message sizes " + inSize + " and " + outSize
            + "; both must be the same, from " + MqSizing.MIN_MESSAGE_SIZE + " bytes");
      }
      pidfd = Pidfd.open(pid);
      if (!MessageQueues.send(out, MqNames.record(MqNames.WELCOME, 0, (int) ProcessHandle.current().pid()))) {
        throw new IOException("its down queue is full before the welcome");
      }
      io = new MqDatagramIo(in, out, pidfd, pid, (int) inSize);
    } catch (IOException e) {
      String why = e instanceof NativeException ne && ne.errno() == Errno.ESRCH ? "the client process is gone" : e.getMessage();
      LOG.log(System.Logger.Level.WARNING, "dropped a connection request on {0} from pid {1}: {2}", names.target, pid, why);
      Fds.closeQuietly(in);
      Fds.closeQuietly(out);
      Fds.closeQuietly(pidfd);
      MqNames.unlinkQuietly(up);
      MqNames.unlinkQuietly(down);
      return;
    }
    Connection c =
        DatagramConnections.create(
            io,
            options,
            new DatagramConnections.Settings(
                MqTransportProvider.NAME, names.target.toString(), "mq client pid " + pid,
                Set.of(Capability.MESSAGE_BOUNDARIES, Capability.INLINE_RECEIVE), Duration.ZERO, false));
    try {
      acceptor.onConnection(c);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "acceptor threw on a connection on " + names.target + "; closing it", e);
      c.close();
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    wake.wake();
    release();
  }

  /** Removes the request queue if it is still ours; the accept thread closes its descriptor. */
  private void release() {
    cancelExitHook.run();
    removeQueue();
    boolean acceptThreadCloses;
    synchronized (lock) {
      acceptThreadCloses = started;
    }
    if (!acceptThreadCloses) {
      Fds.closeQuietly(requestQueue);
      wake.close();
    }
  }

  private void removeQueue() {
    try {
      int again = MessageQueues.open(names.name, Fds.O_RDONLY | Fds.O_NONBLOCK, 0, 0, 0);
      boolean ours;
      try {
        ours = Fds.status(again).inode() == inode;
      } finally {
        Fds.closeQuietly(again);
      }
      if (ours) {
        MqNames.unlinkQuietly(names.name);
      }
    } catch (NativeException e) {
      // Already gone.
    }
  }

  @Override
  public String toString() {
    return "mq listener on " + names.target;
  }
}
