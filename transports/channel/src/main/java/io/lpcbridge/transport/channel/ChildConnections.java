package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.Spawn;
import io.lpcbridge.transport.Connection;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the transports whose client launches its server (pipe, socketpair) share: the ready
 * preamble that tells the parent its child serves, the parent's connection that reports how its
 * child ended and reaps it, and the child's connection that ends the child with its parent.
 *
 * <h2>Ready preamble</h2>
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        'L' 0x4C       'P' 0x50       'C' 0x43       'B' 0x42  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        'R' 0x52       'D' 0x44       'Y' 0x59    version 0x01 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * The child writes these 8 bytes on its side of the channel once its server is listening; the
 * parent's {@code connect} reads them before anything else, within {@code connectTimeout}. So a
 * connect returns only when the child serves, and fails precisely when the child exits first, is
 * not a bridge server, or writes something else (a stray print to a pipe child's stdout) first.
 * Length-prefixed frames follow in both directions.
 */
public final class ChildConnections {
  private static final byte[] PREAMBLE = {'L', 'P', 'C', 'B', 'R', 'D', 'Y', 1};
  /** How long the parent waits for a child that closed its end to report its exit status. */
  private static final Duration EXIT_STATUS_WAIT = Duration.ofSeconds(2);
  /** After SIGTERM, how long a child that outlived its connection gets before SIGKILL. */
  private static final Duration TERM_GRACE = Duration.ofSeconds(5);

  /**
   * Option of the parent's side: where the child's stderr goes. {@code inherit} (default): this
   * process's stderr, so its logs show where the parent's do; {@code discard}: /dev/null; an
   * absolute path: that file, appended to (created 0600).
   */
  public static final String CHILD_STDERR_OPTION = "childStderr";

  private ChildConnections() {}

  /**
   * Opens the descriptor to give the child as its stderr, as the option {@value
   * #CHILD_STDERR_OPTION} says; the caller closes it after starting the child unless it is 2.
   *
   * @throws IllegalArgumentException for a value that is neither a keyword nor an absolute path
   */
  public static int openChildStderr(String value) throws IOException {
    if (value == null || value.equals("inherit")) {
      return 2;
    }
    if (value.equals("discard")) {
      return Fds.open(java.nio.file.Path.of("/dev/null"), Fds.O_WRONLY, 0);
    }
    java.nio.file.Path file = java.nio.file.Path.of(value);
    if (!file.isAbsolute()) {
      throw new IllegalArgumentException(
          "transport option " + CHILD_STDERR_OPTION + "='" + value + "' is neither inherit, discard nor an absolute file path");
    }
    return Fds.open(file, Fds.O_WRONLY | Fds.O_CREAT | Fds.O_APPEND, 0600);
  }

  /** The ready preamble's length in bytes. */
  public static int preambleBytes() {
    return PREAMBLE.length;
  }

  /** Writes the ready preamble to {@code fd} (the child's end), blocking or not. */
  public static void writePreamble(int fd) throws IOException {
    ByteBuffer b = ByteBuffer.allocateDirect(PREAMBLE.length).put(PREAMBLE).flip();
    Fds.PollSet set = new Fds.PollSet(1);
    set.set(0, fd, Fds.POLLOUT);
    while (b.hasRemaining()) {
      if (Fds.write(fd, b) == 0) {
        set.poll(1000);
      }
    }
  }

  /**
   * Reads the ready preamble from {@code fd} (the parent's end) within {@code timeout}. On any
   * failure the child is killed and the exception says what happened and what to do.
   *
   * @param target the target as the caller wrote it, for messages
   */
  public static void awaitPreamble(int fd, Spawn.Child child, Duration timeout, String target) throws IOException {
    Fds.setNonBlocking(fd, true);
    ByteBuffer got = ByteBuffer.allocate(PREAMBLE.length);
    Fds.PollSet set = new Fds.PollSet(1);
    set.set(0, fd, Fds.POLLIN);
    long deadline = System.nanoTime() + timeout.toNanos();
    try {
      while (got.hasRemaining()) {
        int n = Fds.read(fd, got);
        if (n == 0) {
          throw endedEarly(child, got, target);
        }
        if (n == Fds.WOULD_BLOCK) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new SocketTimeoutException(
                "cannot connect to " + target + ": the child " + child + " did not start serving within connectTimeout="
                    + timeout.toMillis() + "ms (it was killed; raise connectTimeout if it starts slowly)");
          }
          set.poll((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        }
        for (int i = 0; i < got.position(); i++) {
          if (got.get(i) != PREAMBLE[i]) {
            throw new ConnectException(
                "cannot connect to " + target + ": the child " + child + " wrote \"" + printable(got, fd)
                    + "\" where a bridge server's ready preamble belongs; the command must serve the bridge on its"
                    + " child side (e.g. bridge serve --target pipe:stdio) and print nothing else on that channel");
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      kill(child);
      throw e;
    }
  }

  private static IOException endedEarly(Spawn.Child child, ByteBuffer got, String target) {
    String how;
    try {
      how = child.onExit().get(EXIT_STATUS_WAIT.toMillis(), TimeUnit.MILLISECONDS).describe();
    } catch (Exception e) {
      how = "closed its end of the channel";
    }
    return new ConnectException(
        "cannot connect to " + target + ": the child " + child + " " + how + " before it started serving"
            + (got.position() > 0 ? " (after " + got.position() + " bytes)" : "")
            + "; its stderr (passed through to this process's) says why");
  }

  private static String printable(ByteBuffer got, int fd) {
    ByteBuffer more = ByteBuffer.allocate(64);
    try {
      Fds.read(fd, more);
    } catch (IOException ignored) {
      // What arrived so far is enough.
    }
    byte[] all = new byte[got.position() + more.position()];
    got.get(0, all, 0, got.position());
    more.get(0, all, got.position(), more.position());
    StringBuilder sb = new StringBuilder();
    for (char c : new String(all, StandardCharsets.ISO_8859_1).toCharArray()) {
      sb.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\x%02x", (int) c));
    }
    return sb.toString();
  }

  private static void kill(Spawn.Child child) {
    try {
      child.signal(Spawn.SIGKILL);
    } catch (IOException ignored) {
      // Already gone.
    }
  }

  /**
   * The parent's connection to the child it launched: {@code onClosed} names how the child ended
   * when it ended badly (e.g. "worker pid 4711 (...) was killed by signal 9 (SIGKILL)"), and once
   * the connection is closed the child is reaped: it gets the linger time to exit on its own (it
   * sees end of file), then SIGTERM, then SIGKILL.
   */
  public static Connection spawned(Connection connection, Spawn.Child child, Duration linger) {
    return new SpawnedPeerConnection(connection, child, linger, TERM_GRACE);
  }

  /**
   * The child's connection to its parent: once it closes (the parent closed it, or died), this
   * process exits, with status 0 after an orderly close and 1 otherwise, after the handler's
   * {@code onClosed} has run. A worker thus never outlives the parent that launched it.
   */
  public static Connection exitingWithParent(Connection connection) {
    return new ParentBoundConnection(connection);
  }
}
