package io.lpcbridge.transport.fifo;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.Fifos;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ConnectionHooks;
import io.lpcbridge.transport.channel.FdConnections;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The client's handshake on {@code fifo:///dir}, so that no FIFO outlives a crash:
 *
 * <ol>
 *   <li>Create {@code c-<id>.up} and {@code c-<id>.down} (mode 0600) and open both ends this side
 *       needs ({@code down} to read; {@code up} to write, which needs a reader: a temporary one of
 *       our own, held until the server has its). The server thus never sees end of file on a FIFO
 *       that is merely not open yet.
 *   <li>Write the request record to the well-known FIFO ({@code ENXIO}: no server reads it).
 *   <li>Wait for the server's welcome on {@code down} within {@code connectTimeout}. By then the
 *       server has both FIFOs open and has unlinked them.
 * </ol>
 *
 * On any failure the client unlinks its pair itself.
 */
final class FifoConnector {
  private FifoConnector() {}

  static Connection connect(FifoDirectory d, TransportOptions options) throws IOException {
    Path requests = d.requests();
    Fds.FileStatus rs = Fds.status(requests);
    if (rs == null) {
      throw new ConnectException(
          "cannot connect to " + d.target + ": there is no request FIFO " + requests + ", so no server listens there"
              + " (is the server running, and is the directory right?)");
    }
    if (!rs.isFifo()) {
      throw new ConnectException("cannot connect to " + d.target + ": " + requests + " is not a FIFO");
    }
    long id;
    Path up;
    Path down;
    while (true) {
      id = ThreadLocalRandom.current().nextLong();
      up = d.up(id);
      down = d.down(id);
      try {
        Fifos.mkfifo(up, FifoDirectory.MODE);
      } catch (NativeException e) {
        if (e.errno() == Errno.EEXIST) {
          continue;
        }
        throw new IOException("cannot connect to " + d.target + ": " + e.getMessage(), e);
      }
      try {
        Fifos.mkfifo(down, FifoDirectory.MODE);
        break;
      } catch (NativeException e) {
        Fds.unlink(up);
        if (e.errno() != Errno.EEXIST) {
          throw new IOException("cannot connect to " + d.target + ": " + e.getMessage(), e);
        }
      }
    }
    int in = -1;
    int out = -1;
    int holder = -1;
    try {
      in = Fds.open(down, Fds.O_RDONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      holder = Fds.open(up, Fds.O_RDONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      out = Fds.open(up, Fds.O_WRONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
      long deadline = System.nanoTime() + options.connectTimeout().toNanos();
      sendRequest(d, id, deadline, options);
      awaitWelcome(d, in, deadline, options);
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(in);
      Fds.closeQuietly(out);
      Fds.closeQuietly(holder);
      Fds.unlink(up);
      Fds.unlink(down);
      throw e;
    }
    Fds.closeQuietly(holder);
    Fds.unlink(up);
    Fds.unlink(down);
    Connection c =
        FdConnections.create(in, out, options, FifoTransportProvider.NAME, "pid " + ProcessHandle.current().pid(), d.target.toString(), Set.of());
    // The server's crash leaves its request FIFO behind; its clients are the ones who notice.
    return ConnectionHooks.cleanUpAfterPeer(c, d.requests().toString(), d::removeIfStale);
  }

  private static void sendRequest(FifoDirectory d, long id, long deadline, TransportOptions options) throws IOException {
    int fd;
    try {
      fd = Fds.open(d.requests(), Fds.O_WRONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0);
    } catch (NativeException e) {
      if (e.errno() == Errno.ENXIO) {
        boolean removed = d.removeIfStale();
        throw new ConnectException(
            "cannot connect to " + d.target + ": no server reads its request FIFO " + d.requests()
                + (removed ? " (a server that crashed left it; removed)" : ""));
      }
      if (e.errno() == Errno.ENOENT) {
        throw new ConnectException("cannot connect to " + d.target + ": its request FIFO " + d.requests() + " is gone (the server closed)");
      }
      throw new IOException("cannot connect to " + d.target + ": " + e.getMessage(), e);
    }
    try {
      ByteBuffer record = FifoDirectory.request(id, (int) ProcessHandle.current().pid());
      Fds.PollSet set = new Fds.PollSet(1);
      set.set(0, fd, Fds.POLLOUT);
      while (true) {
        int n = Fds.write(fd, record);
        if (n == FifoDirectory.RECORD_BYTES) {
          return;
        }
        if (n != 0) {
          throw new IOException("cannot connect to " + d.target + ": a partial request was written (" + n + " bytes)");
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new SocketTimeoutException(
              "cannot connect to " + d.target + ": its request FIFO stayed full for connectTimeout="
                  + options.connectTimeout().toMillis() + "ms (is the server stuck?)");
        }
        set.poll((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    } finally {
      Fds.closeQuietly(fd);
    }
  }

  private static void awaitWelcome(FifoDirectory d, int in, long deadline, TransportOptions options) throws IOException {
    ByteBuffer got = ByteBuffer.allocate(FifoDirectory.WELCOME_BYTES);
    Fds.PollSet set = new Fds.PollSet(1);
    set.set(0, in, Fds.POLLIN);
    while (got.hasRemaining()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException(
            "cannot connect to " + d.target + ": the server did not answer within connectTimeout="
                + options.connectTimeout().toMillis() + "ms");
      }
      // Poll before reading: until the server opens its end, a read would report end of file.
      if (set.poll((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))) == 0) {
        continue;
      }
      int n = Fds.read(in, got);
      if (n == 0) {
        throw new ConnectException("cannot connect to " + d.target + ": the server closed the connection during the handshake");
      }
    }
    if (got.getInt(0) != FifoDirectory.MAGIC || got.getShort(4) != FifoDirectory.VERSION || got.getShort(6) != FifoDirectory.ACCEPTED) {
      throw new ConnectException(
          "cannot connect to " + d.target + ": the server's welcome is not that of a version-1 fifo server (0x"
              + java.util.HexFormat.of().formatHex(got.array()) + ")");
    }
  }
}
