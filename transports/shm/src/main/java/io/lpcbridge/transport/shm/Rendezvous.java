package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.unix.SocketFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Pattern;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;

/**
 * Where the Unix socket for {@code shm://NAME} lives, and binding it.
 *
 * <p>The socket is {@code DIR/NAME.sock}. DIR is the {@code dir} option, or {@code
 * /tmp/lpcbridge-shm-UID} for this process's user id: a fixed place both ends compute alike
 * ({@code $XDG_RUNTIME_DIR} is not used because two processes of one user, say a service and a
 * login shell, often see different values or none). The directory is created with mode 0700, or
 * 0711 when other users are admitted with {@code allowUids}; an existing one must be a real
 * directory owned by this user and writable by nobody else, or listening refuses (someone could
 * otherwise have put it there to catch the socket).
 */
final class Rendezvous {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  /** sun_path holds 108 bytes with its terminating NUL. */
  private static final int MAX_SOCKET_PATH = 107;
  static final long STALE_AGE_MILLIS = 10_000;

  private Rendezvous() {}

  /**
   * The NAME of {@code shm://NAME}.
   *
   * @throws IllegalArgumentException saying how to write the target
   */
  static String name(Target target) {
    if (!ShmTransportProvider.SCHEME.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not an " + ShmTransportProvider.SCHEME + ": target");
    }
    String rest = target.schemeSpecificPart();
    String name = rest.startsWith("//") ? rest.substring(2) : null;
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "target '" + target + "': write it as shm://NAME, NAME being 1 to 64 letters, digits, '.', '_' or '-'"
              + " and not starting with '.', '_' or '-'");
    }
    return name;
  }

  /** This process's effective user id, which owns {@code /proc/self}. */
  static long ownUid() throws IOException {
    return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
  }

  static Path defaultDir(long uid) {
    return Path.of("/tmp", "lpcbridge-shm-" + uid);
  }

  /**
   * The socket path for {@code name}.
   *
   * @throws IllegalArgumentException if it is too long for a Unix socket
   */
  static Path socketPath(Path dir, String name) {
    Path p = dir.resolve(name + ".sock");
    if (p.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH) {
      throw new IllegalArgumentException(
          "rendezvous socket path " + p + " is longer than the " + MAX_SOCKET_PATH + " bytes a Unix socket allows;"
              + " use a shorter name or a shorter transport option dir");
    }
    return p;
  }

  /**
   * Creates the directory if needed and checks that nobody else controls it.
   *
   * @param openToOthers whether other users must be able to reach sockets in it (mode 0711)
   */
  static void prepareDir(Path dir, long uid, boolean openToOthers) throws IOException {
    String wanted = openToOthers ? "rwx--x--x" : "rwx------";
    try {
      Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(wanted)));
    } catch (FileAlreadyExistsException e) {
      // Checked below.
    } catch (NoSuchFileException e) {
      throw new IOException("cannot create rendezvous directory " + dir + ": its parent does not exist", e);
    }
    BasicFileAttributes attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    if (!attrs.isDirectory()) {
      throw new IOException(
          "rendezvous directory " + dir + " is not a directory (a symbolic link or file is in the way); remove it or set"
              + " the transport option dir");
    }
    long owner = ((Number) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS)).longValue();
    int mode = ((Number) Files.getAttribute(dir, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue() & 07777;
    if (owner != uid) {
      throw new IOException(
          "rendezvous directory " + dir + " belongs to uid " + owner + ", not to this process's uid " + uid
              + "; remove it or set the transport option dir");
    }
    if ((mode & 0022) != 0) {
      throw new IOException(String.format(
          "rendezvous directory %s has mode %04o: others may write in it, so they could replace the socket;"
              + " run chmod 700 on it or set the transport option dir", dir, mode));
    }
    // Owner's own dir: make it what this listener needs (a 0700 one stays closed unless opening is asked).
    int target = openToOthers ? (mode | 0711) & ~0022 : mode;
    if (target != mode) {
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(toRwx(target)));
    }
  }

  private static String toRwx(int mode) {
    StringBuilder b = new StringBuilder();
    String letters = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      b.append((mode & (0400 >> i)) != 0 ? letters.charAt(i) : '-');
    }
    return b.toString();
  }

  /**
   * Binds and listens on {@code path}, replacing a stale socket file (nobody listening) but never a
   * live one or anything that is not a socket ({@link SocketFiles#bind}).
   *
   * @param openToOthers mode 0666 on the socket (peers are checked by credentials) instead of 0600
   */
  static AFUNIXServerSocketChannel bind(Path path, boolean openToOthers, int backlog) throws IOException {
    return SocketFiles.bind(path, PosixFilePermissions.fromString(openToOthers ? "rw-rw-rw-" : "rw-------"), backlog);
  }

  /**
   * Removes socket files in {@code dir} that nobody listens on any more: left by servers that were
   * killed (a killed process cannot remove its socket file). Only sockets older than {@link
   * #STALE_AGE_MILLIS} are probed, so a server between its bind and its listen is never taken
   * for dead. The directory is this user's own (see {@link #prepareDir}), so nothing of anyone
   * else's is touched.
   *
   * @return the number of files removed
   */
  static int sweepStale(Path dir) {
    int removed = 0;
    long cutoff = System.currentTimeMillis() - STALE_AGE_MILLIS;
    try (java.nio.file.DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.sock")) {
      for (Path p : files) {
        try {
          if (Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS).toMillis() < cutoff && SocketFiles.isSocket(p) && SocketFiles.isStale(p)) {
            Files.deleteIfExists(p);
            removed++;
          }
        } catch (IOException | RuntimeException e) {
          // Gone meanwhile, or not ours to judge: leave it.
        }
      }
    } catch (IOException e) {
      // An unreadable directory fails the bind that follows, with a better message.
    }
    return removed;
  }

  /** The identity (device and inode) of the file at {@code path}, or null. */
  static Object fileKey(Path path) {
    return SocketFiles.fileKey(path);
  }

  /** Removes {@code path} if it is still the file {@code key} identifies, not a successor's. */
  static void removeIfSame(Path path, Object key) throws IOException {
    SocketFiles.removeIfSame(path, key);
  }
}
