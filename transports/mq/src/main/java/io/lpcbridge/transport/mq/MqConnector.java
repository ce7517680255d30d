package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.nativeio.Pidfd;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.ConnectionHooks;
import io.lpcbridge.transport.channel.DatagramConnections;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The client's handshake on {@code mq:///name}:
 *
 * <ol>
 *   <li>Create {@code /name.<id>.up} and {@code .dn} (mode 0600, {@link MqSizing}) and open them.
 *   <li>Send a REQUEST record on {@code /name} ({@code ENOENT}: no server; a queue nobody holds
 *       locked: a crashed server's, removed).
 *   <li>Wait for the server's WELCOME on {@code .dn} within {@code connectTimeout}. The server has
 *       opened and unlinked both queues by then; the client unlinks them too on every path out.
 * </ol>
 */
final class MqConnector {
  private MqConnector() {}

  static Connection connect(MqNames names, MqSizing sizing, TransportOptions options, MessageQueues.Limits limits) throws IOException {
    long id = ThreadLocalRandom.current().nextLong();
    String up = names.up(id);
    String down = names.down(id);
    int out = -1;
    int in = -1;
    int pidfd = -1;
    int serverPid;
    try {
      out = create(names, up, Fds.O_WRONLY, sizing, limits);
      in = create(names, down, Fds.O_RDONLY, sizing, limits);
      long deadline = System.nanoTime() + options.connectTimeout().toNanos();
      sendRequest(names, id, deadline, options);
      serverPid = awaitWelcome(names, in, sizing, deadline, options);
      pidfd = Pidfd.open(serverPid);
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(in);
      Fds.closeQuietly(out);
      MqNames.unlinkQuietly(up);
      MqNames.unlinkQuietly(down);
      if (e instanceof NativeException ne && ne.errno() == Errno.ESRCH) {
        throw new ConnectException("cannot connect to " + names.target + ": the server exited during the handshake");
      }
      throw e;
    }
    MqNames.unlinkQuietly(up);
    MqNames.unlinkQuietly(down);
    MqDatagramIo io = new MqDatagramIo(in, out, pidfd, serverPid, sizing.messageSize());
    Connection c =
        DatagramConnections.create(
            io,
            options,
            new DatagramConnections.Settings(
                MqTransportProvider.NAME, "pid " + ProcessHandle.current().pid(), names.target + " (server pid " + serverPid + ")",
                Set.of(Capability.MESSAGE_BOUNDARIES, Capability.INLINE_RECEIVE), Duration.ZERO, false));
    // A crashed server leaves its request queue behind; its clients are the ones who notice.
    return ConnectionHooks.cleanUpAfterPeer(c, names.name, names::removeIfStale);
  }

  private static int create(MqNames names, String queue, int access, MqSizing sizing, MessageQueues.Limits limits) throws IOException {
    try {
      return MessageQueues.open(
          queue, Fds.O_CREAT | Fds.O_EXCL | access | Fds.O_NONBLOCK, MqNames.MODE, sizing.queueDepth(), sizing.messageSize());
    } catch (NativeException e) {
      if (e.errno() == Errno.EMFILE && limits.userBytes() >= 0) {
        throw new IOException(
            "cannot connect to " + names.target + ": the per-user message queue budget RLIMIT_MSGQUEUE ("
                + limits.userBytes() + " bytes, ulimit -q) is spent; each mq connection takes about "
                + sizing.bytesPerConnection() + " bytes (2 queues of " + MqSizing.QUEUE_DEPTH + "=" + sizing.queueDepth()
                + " x " + MqSizing.MESSAGE_SIZE + "=" + sizing.messageSize() + "): close connections, lower those options,"
                + " or raise the limit",
            e);
      }
      throw new IOException("cannot connect to " + names.target + ": " + e.getMessage(), e);
    }
  }

  private static void sendRequest(MqNames names, long id, long deadline, TransportOptions options) throws IOException {
    int mqd;
    try {
      mqd = MessageQueues.open(names.name, Fds.O_WRONLY | Fds.O_NONBLOCK, 0, 0, 0);
    } catch (NativeException e) {
      if (e.errno() == Errno.ENOENT) {
        throw new ConnectException(
            "cannot connect to " + names.target + ": there is no queue " + names.name + ", so no server listens there"
                + " (is the server running, and is the name right?)");
      }
      throw new IOException("cannot connect to " + names.target + ": " + e.getMessage(), e);
    }
    try {
      if (names.removeIfStale()) {
        throw new ConnectException(
            "cannot connect to " + names.target + ": no server holds the queue " + names.name
                + " (a server that crashed left it; removed)");
      }
      ByteBuffer record = MqNames.record(MqNames.REQUEST, id, (int) ProcessHandle.current().pid());
      Fds.PollSet set = new Fds.PollSet(1);
      set.set(0, mqd, Fds.POLLOUT);
      while (!MessageQueues.send(mqd, record)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw new SocketTimeoutException(
              "cannot connect to " + names.target + ": the queue " + names.name + " stayed full for connectTimeout="
                  + options.connectTimeout().toMillis() + "ms (is the server stuck?)");
        }
        set.poll((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    } finally {
      Fds.closeQuietly(mqd);
    }
  }

  private static int awaitWelcome(MqNames names, int in, MqSizing sizing, long deadline, TransportOptions options) throws IOException {
    ByteBuffer got = ByteBuffer.allocateDirect(sizing.messageSize());
    Fds.PollSet set = new Fds.PollSet(1);
    set.set(0, in, Fds.POLLIN);
    while (true) {
      int n = MessageQueues.receive(in, got.clear());
      if (n >= 0) {
        got.flip();
        if (!MqNames.isRecord(got, MqNames.WELCOME)) {
          throw new ConnectException("cannot connect to " + names.target + ": the server's first message is not a version-1 welcome");
        }
        return got.getInt(MqNames.PID_OFFSET);
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException(
            "cannot connect to " + names.target + ": the server did not answer within connectTimeout="
                + options.connectTimeout().toMillis() + "ms");
      }
      set.poll((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
    }
  }
}
