package io.lpcbridge.transport.unix;

import java.io.IOException;
import java.net.BindException;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AddressAlreadyInUseSocketException;
import org.newsclub.net.unix.ConnectionRefusedSocketException;

/**
 * Binding a server socket to a path: stale files, live servers, permissions, removal. Public for
 * the other transports that listen on a Unix socket file (shm's rendezvous socket).
 */
public final class SocketFiles {
  private static final int S_IFMT = 0170000;
  private static final int S_IFSOCK = 0140000;
  private static final int BIND_ATTEMPTS = 3;

  private SocketFiles() {}

  /**
   * Binds and listens on {@code path}, then sets {@code mode} on the socket file.
   *
   * <p>An existing socket file nobody listens on (connecting is refused: its server died without
   * removing it) is removed and the path bound again. A file where a server listens is left alone:
   * {@link BindException} "address in use". Anything else at the path (a regular file, a directory)
   * is never removed.
   *
   * <p>junixsocket's own "reuse address" is switched off: with it, junixsocket moves whatever socket
   * file is at the path aside, live or not, and silently takes a running server's address. Without
   * it, junixsocket connects first and unlinks the file when that is refused, which is the stale-file
   * recovery wanted here, except that connecting to a regular file is refused too: hence the check
   * that anything already at the path is a socket. If junixsocket reports the address in use, the
   * file is probed again here before giving up, so recovery does not depend on that detail.
   */
  static AFUNIXServerSocketChannel bind(Path path, AccessMode mode, int backlog) throws IOException {
    return bind(path, mode.permissions(), backlog);
  }

  /** {@link #bind(Path, AccessMode, int)} with the socket file's permissions given directly. */
  public static AFUNIXServerSocketChannel bind(Path path, java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions, int backlog)
      throws IOException {
    requireSocketOrNothing(path);
    for (int attempt = 1; ; attempt++) {
      AFUNIXServerSocketChannel server = AFUNIXServerSocketChannel.open();
      try {
        server.socket().setReuseAddress(false);
        // Removal is ours to do, and only while the file is still the one we bound.
        server.setDeleteOnClose(false);
        server.bind(AFUNIXSocketAddress.of(path), backlog);
      } catch (AddressAlreadyInUseSocketException e) {
        server.close();
        if (attempt == BIND_ATTEMPTS || !isStale(path)) {
          BindException inUse = new BindException("address in use: a server is already listening on " + path);
          inUse.initCause(e);
          throw inUse;
        }
        Files.deleteIfExists(path);
        continue;
      } catch (IOException | RuntimeException e) {
        server.close();
        throw e;
      }
      try {
        Files.setPosixFilePermissions(path, permissions);
      } catch (IOException | RuntimeException e) {
        server.close();
        Files.deleteIfExists(path);
        throw new IOException(
            "cannot set mode " + java.nio.file.attribute.PosixFilePermissions.toString(permissions) + " on socket file " + path + ": "
                + e.getMessage(), e);
      }
      return server;
    }
  }

  /**
   * Whether {@code path} is a socket file nobody listens on.
   *
   * @throws IOException if something other than a socket is there, naming it
   */
  public static boolean isStale(Path path) throws IOException {
    try {
      requireSocket(path);
    } catch (NoSuchFileException gone) {
      return true;
    }
    try (AFUNIXSocketChannel probe = AFUNIXSocketChannel.open(AFUNIXSocketAddress.of(path))) {
      return false;
    } catch (ConnectionRefusedSocketException refused) {
      return true;
    } catch (SocketException e) {
      if (Files.notExists(path, LinkOption.NOFOLLOW_LINKS)) {
        return true;
      }
      throw e;
    }
  }

  private static void requireSocketOrNothing(Path path) throws IOException {
    try {
      requireSocket(path);
    } catch (NoSuchFileException nothing) {
      // Free to bind.
    }
  }

  private static void requireSocket(Path path) throws IOException {
    if (!isSocket(path)) {
      throw new BindException(
          "cannot bind " + path + ": a file that is not a socket is in the way; not removing it");
    }
  }

  public static boolean isSocket(Path path) throws IOException {
    try {
      int mode = ((Number) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue();
      return (mode & S_IFMT) == S_IFSOCK;
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // No "unix" attribute view: "other" covers sockets, FIFOs and devices, close enough here.
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther();
    }
  }

  /** The identity of the file at {@code path} (device and inode), or null if there is none. */
  public static Object fileKey(Path path) {
    try {
      return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
    } catch (IOException e) {
      return null;
    }
  }

  /** Removes {@code path} if it is still the file {@code key} identifies, not a successor's. */
  public static void removeIfSame(Path path, Object key) throws IOException {
    if (key != null && key.equals(fileKey(path))) {
      Files.deleteIfExists(path);
    }
  }
}
