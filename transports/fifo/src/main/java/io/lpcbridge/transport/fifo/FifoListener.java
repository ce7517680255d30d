package io.lpcbridge.transport.fifo;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.Fifos;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.nativeio.WakePipe;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ExitHooks;
import io.lpcbridge.transport.channel.FdConnections;
import java.io.IOException;
import java.net.BindException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A server on {@code fifo:///dir}: reads connection requests from the well-known FIFO and opens
 * each client's FIFO pair, on one platform daemon thread.
 *
 * <h2>Files</h2>
 *
 * The request FIFO is created under a temporary name, opened (by a reader, and by a writer of our
 * own so the reader never sees end of file), and only then renamed into place: a request FIFO that
 * has no reader is therefore always a dead server's, which clients and later servers remove. A
 * connection's two FIFOs are unlinked by the server as soon as both ends have them open, so a crash
 * of either side afterwards leaves nothing behind. {@link #close()} removes the request FIFO if it
 * is still this server's, and the directory if this listener created it and it is empty.
 */
final class FifoListener implements Listener {
  private static final System.Logger LOG = System.getLogger(FifoListener.class.getName());

  private final FifoDirectory directory;
  private final TransportOptions options;
  private final int readFd;
  private final int keepOpenFd;
  private final long inode;
  private final WakePipe wake;
  /** Whether bind created the directory: then close removes it again if it is empty. */
  private final boolean createdDirectory;
  /** Removes the request FIFO at JVM exit if close() does not come first. */
  private final Runnable cancelExitHook;
  private final Object lock = new Object();
  /** Guarded by lock. */
  private boolean started;
  /** Written under lock. */
  private volatile boolean closed;

  private FifoListener(
      FifoDirectory directory, TransportOptions options, int readFd, int keepOpenFd, long inode, WakePipe wake, boolean createdDirectory) {
    this.createdDirectory = createdDirectory;
    this.cancelExitHook = ExitHooks.register("fifo listener " + directory.target, this::removeFiles);
    this.directory = directory;
    this.options = options;
    this.readFd = readFd;
    this.keepOpenFd = keepOpenFd;
    this.inode = inode;
    this.wake = wake;
  }

  static FifoListener bind(FifoDirectory d, TransportOptions options) throws IOException {
    boolean created = !Files.isDirectory(d.dir);
    if (created) {
      try {
        Files.createDirectories(d.dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (IOException e) {
        throw new IOException("cannot listen on " + d.target + ": cannot create the directory " + d.dir + ": " + e, e);
      }
    }
    Path requests = d.requests();
    Fds.FileStatus existing = Fds.status(requests);
    if (existing != null) {
      if (!existing.isFifo()) {
        throw new BindException("cannot listen on " + d.target + ": " + requests + " is in the way and is not a FIFO; not removing it");
      }
      if (!d.removeIfStale()) {
        throw new BindException("address in use: a server is already listening on " + d.target);
      }
      LOG.log(System.Logger.Level.INFO, "removed the request FIFO of a server that is gone: {0}", requests);
    }
    Path temporary = d.dir.resolve(".connect." + ProcessHandle.current().pid() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    Fifos.mkfifo(temporary, FifoDirectory.MODE);
    int readFd = -1;
    int keepOpenFd = -1;
    WakePipe wake = null;
    try {
      readFd = Fds.open(temporary, Fds.O_RDONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      keepOpenFd = Fds.open(temporary, Fds.O_WRONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      long inode = Fds.status(readFd).inode();
      wake = new WakePipe();
      if (Fds.status(requests) != null) {
        throw new BindException("address in use: a server started listening on " + d.target + " meanwhile");
      }
      Fds.rename(temporary, requests);
      return new FifoListener(d, options, readFd, keepOpenFd, inode, wake, created);
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(readFd);
      Fds.closeQuietly(keepOpenFd);
      if (wake != null) {
        wake.close();
      }
      Fds.unlink(temporary);
      throw e;
    }
  }

  @Override
  public Target localTarget() {
    return directory.target;
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("listener on " + directory.target + " is closed");
      }
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + directory.target);
      }
      started = true;
    }
    Thread t = new Thread(() -> acceptLoop(acceptor), "fifo accept " + directory.dir);
    t.setDaemon(true);
    t.start();
  }

  private void acceptLoop(Acceptor acceptor) {
    Fds.PollSet set = new Fds.PollSet(2);
    set.set(0, readFd, Fds.POLLIN);
    set.set(1, wake.readFd(), Fds.POLLIN);
    ByteBuffer buf = ByteBuffer.allocateDirect(64 * FifoDirectory.RECORD_BYTES);
    try {
      while (!closed) {
        int n = Fds.read(readFd, buf);
        if (n == Fds.WOULD_BLOCK || n == 0) {
          set.poll(-1);
          continue;
        }
        buf.flip();
        while (buf.remaining() >= FifoDirectory.RECORD_BYTES && !closed) {
          int at = buf.position();
          if (buf.getInt(at + FifoDirectory.MAGIC_OFFSET) != FifoDirectory.MAGIC
              || buf.getShort(at + FifoDirectory.VERSION_OFFSET) != FifoDirectory.VERSION) {
            LOG.log(System.Logger.Level.WARNING,
                "discarded {0} bytes on {1} that are not connection requests of version 1", buf.remaining(), directory.requests());
            buf.position(buf.limit());
            break;
          }
          long id = buf.getLong(at + FifoDirectory.ID_OFFSET);
          int pid = buf.getInt(at + FifoDirectory.PID_OFFSET);
          buf.position(at + FifoDirectory.RECORD_BYTES);
          accept(acceptor, id, pid);
        }
        buf.compact();
      }
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        closed = true;
        release();
        acceptor.onListenerFailed(new IOException("listener on " + directory.target + " stopped: " + e.getMessage(), e));
      }
    } finally {
      // Closed here, not by close(): a descriptor closed under this thread's poll() could be
      // reused by the kernel for something else before the poll returns.
      Fds.closeQuietly(readFd);
      wake.close();
    }
  }

  /** Opens one client's pair; a client that is gone, or names FIFOs that are not its, is skipped. */
  private void accept(Acceptor acceptor, long id, int pid) {
    Path up = directory.up(id);
    Path down = directory.down(id);
    int in = -1;
    int out = -1;
    try {
      in = Fds.open(up, Fds.O_RDONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      out = Fds.open(down, Fds.O_WRONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      Fds.FileStatus si = Fds.status(in);
      Fds.FileStatus so = Fds.status(out);
      if (!si.isFifo() || !so.isFifo()) {
        throw new IOException("they are not FIFOs");
      }
      Fds.unlink(up);
      Fds.unlink(down);
      ByteBuffer w = FifoDirectory.welcome();
      if (Fds.write(out, w) != FifoDirectory.WELCOME_BYTES) {
        throw new IOException("its down FIFO took no welcome");
      }
    } catch (IOException e) {
      String why = e instanceof NativeException ne && ne.errno() == Errno.ENXIO
          ? "it is gone (nobody reads " + down + ")" : e.getMessage();
      LOG.log(System.Logger.Level.WARNING, "dropped a connection request on {0} from pid {1}: {2}", directory.target, pid, why);
      Fds.closeQuietly(in);
      Fds.closeQuietly(out);
      unlinkQuietly(up);
      unlinkQuietly(down);
      return;
    }
    Connection c;
    try {
      c = FdConnections.create(in, out, options, FifoTransportProvider.NAME, directory.target.toString(), "fifo client pid " + pid, Set.of());
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "dropped a connection on " + directory.target + " while setting it up", e);
      return;
    }
    try {
      acceptor.onConnection(c);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "acceptor threw on a connection on " + directory.target + "; closing it", e);
      c.close();
    }
  }

  private static void unlinkQuietly(Path p) {
    try {
      Fds.unlink(p);
    } catch (NativeException ignored) {
      // Best effort on a failure path.
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

  /** Removes the request FIFO if it is still ours, then closes it. Requests still in it are dropped. */
  private void release() {
    cancelExitHook.run();
    removeFiles();
    Fds.closeQuietly(keepOpenFd);
    boolean acceptThreadCloses;
    synchronized (lock) {
      acceptThreadCloses = started;
    }
    if (!acceptThreadCloses) {
      Fds.closeQuietly(readFd);
      wake.close();
    }
  }

  /** Removes the request FIFO if it is still ours, and the directory if we made it and it is empty. */
  private void removeFiles() {
    try {
      Fds.FileStatus s = Fds.status(directory.requests());
      if (s != null && s.inode() == inode) {
        Fds.unlink(directory.requests());
      }
    } catch (NativeException e) {
      LOG.log(System.Logger.Level.WARNING, "could not remove " + directory.requests(), e);
    }
    if (createdDirectory) {
      try {
        Files.deleteIfExists(directory.dir);
      } catch (IOException e) {
        // Not empty (another process's files, a handshake in progress): leave it.
      }
    }
  }

  @Override
  public String toString() {
    return "fifo listener on " + directory.target;
  }
}
