package io.lpcbridge.transport.unixdgram;

import java.io.IOException;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.ConnectionRefusedSocketException;

/** Opening, binding and probing datagram sockets; socket files and their removal. */
final class DgramSockets {
  private static final AtomicLong COUNTER = new AtomicLong();

  private DgramSockets() {}

  /**
   * A fresh abstract name for one end of a connection: unique per process and call, unguessable.
   * Abstract names vanish with their socket, so a crash leaves nothing behind.
   */
  static DgramAddress freshAbstract(String role) {
    return new DgramAddress(
        null,
        "lpcbridge-dgram-" + role + "-" + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + "-"
            + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()));
  }

  /** A datagram channel bound to {@code address}, with a send buffer for a few datagrams. */
  static AFUNIXDatagramChannel bound(DgramAddress address, int datagramSize) throws IOException {
    AFUNIXDatagramChannel ch = AFUNIXDatagramChannel.open();
    try {
      ch.setDeleteOnClose(false);
      // Linux charges queued datagrams to the sender's buffer; room for a few keeps the pipe full.
      int wanted = 4 * (datagramSize + 1024);
      if (ch.socket().getSendBufferSize() < wanted) {
        ch.socket().setSendBufferSize(wanted);
      }
      ch.bind(address.socketAddress());
      return ch;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /**
   * Whether a server receives on the socket file {@code path}: connecting a datagram socket to a
   * file whose socket is closed is refused.
   */
  static boolean isLive(Path path) throws IOException {
    try (AFUNIXDatagramChannel probe = AFUNIXDatagramChannel.open()) {
      probe.connect(AFUNIXSocketAddress.of(path));
      return true;
    } catch (ConnectionRefusedSocketException e) {
      return false;
    }
  }

  /**
   * Removes the socket file at {@code path} if nobody receives on it (its server crashed), unless
   * a new server replaced it meanwhile.
   *
   * @return true if it was removed
   */
  static boolean removeIfStale(Path path) {
    try {
      Object key = fileKey(path);
      if (key == null || !isSocket(path) || isLive(path)) {
        return false;
      }
      if (!key.equals(fileKey(path))) {
        return false;
      }
      return Files.deleteIfExists(path);
    } catch (IOException e) {
      return false;
    }
  }

  static boolean isSocket(Path path) throws IOException {
    int mode = ((Number) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue();
    return (mode & 0170000) == 0140000;
  }

  /** The file's identity (device and inode), or null if there is none. */
  static Object fileKey(Path path) {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /** Checks what is at {@code path} before binding: nothing, or a stale socket (removed). */
  static void clearForBind(Path path, String target) throws IOException {
    if (fileKey(path) == null) {
      return;
    }
    if (!isSocket(path)) {
      throw new BindException("cannot bind " + target + ": a file that is not a socket is in the way at " + path + "; not removing it");
    }
    if (!removeIfStale(path) && fileKey(path) != null) {
      throw new BindException("address in use: a server is already listening on " + target);
    }
  }

  static void setMode(Path path, Set<PosixFilePermission> mode) throws IOException {
    Files.setPosixFilePermissions(path, mode);
  }
}
