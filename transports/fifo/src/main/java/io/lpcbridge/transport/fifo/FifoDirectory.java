package io.lpcbridge.transport.fifo;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.transport.Target;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The directory of a {@code fifo:///dir} target and the names in it: the well-known request FIFO
 * {@value #REQUESTS} and, while a connection is being set up, its pair {@code c-<id>.up} (client
 * to server) and {@code c-<id>.down}.
 *
 * <h2>Request record</h2>
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Magic "LPCF" 0x4C504346                  |  MAGIC_OFFSET
 * +-------------------------------+-------------------------------+
 * |        Version (16) = 1       |          Reserved (16)        |  VERSION_OFFSET
 * +-------------------------------+-------------------------------+
 * |                   Connection id (64), random                  |  ID_OFFSET
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                     Client pid (32)                           |  PID_OFFSET
 * +---------------------------------------------------------------+
 * |                     Reserved (96), zero                       |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * {@value #RECORD_BYTES} bytes, well under {@code PIPE_BUF} (4096): POSIX makes such a write to a
 * pipe atomic, so the records of clients writing at once never interleave.
 *
 * <h2>Welcome</h2>
 *
 * The server's first 8 bytes on {@code down}: magic {@code LPCF}, version (16) = 1, status (16):
 * 0 accepted. Length-prefixed frames follow in both directions.
 */
final class FifoDirectory {
  static final String REQUESTS = "connect.fifo";
  static final int MAGIC = 0x4C504346;
  static final short VERSION = 1;
  static final int MAGIC_OFFSET = 0;
  static final int VERSION_OFFSET = 4;
  static final int ID_OFFSET = 8;
  static final int PID_OFFSET = 16;
  static final int RECORD_BYTES = 32;
  static final int WELCOME_BYTES = 8;
  static final short ACCEPTED = 0;
  static final int MODE = 0600;

  private static final Pattern CONNECTION_FIFO = Pattern.compile("c-[0-9a-f]{16}\\.(up|down)");

  final Path dir;
  final Target target;

  private FifoDirectory(Path dir, Target target) {
    this.dir = dir;
    this.target = target;
  }

  /** Parses {@code fifo:///dir} (a relative path is made absolute). */
  static FifoDirectory of(Target target) {
    Path dir = Path.of(target.path()).toAbsolutePath().normalize();
    if (target.path().startsWith("@")) {
      throw new IllegalArgumentException("target '" + target + "': a fifo target names a directory: fifo:///path/to/dir");
    }
    return new FifoDirectory(dir, Target.of(FifoTransportProvider.SCHEME, "//" + dir));
  }

  Path requests() {
    return dir.resolve(REQUESTS);
  }

  Path up(long id) {
    return dir.resolve("c-" + HexFormat.of().toHexDigits(id) + ".up");
  }

  Path down(long id) {
    return dir.resolve("c-" + HexFormat.of().toHexDigits(id) + ".down");
  }

  static ByteBuffer request(long id, int pid) {
    ByteBuffer b = ByteBuffer.allocateDirect(RECORD_BYTES);
    b.putInt(MAGIC_OFFSET, MAGIC).putShort(VERSION_OFFSET, VERSION).putLong(ID_OFFSET, id).putInt(PID_OFFSET, pid);
    return b;
  }

  static ByteBuffer welcome() {
    ByteBuffer b = ByteBuffer.allocateDirect(WELCOME_BYTES);
    b.putInt(0, MAGIC).putShort(4, VERSION).putShort(6, ACCEPTED);
    return b;
  }

  /**
   * Whether a FIFO at {@code path} has no reader, i.e. no server: opening it to write without
   * blocking then fails with {@code ENXIO}. A live server's request FIFO always has one, because
   * it is opened before it is renamed into place.
   */
  static boolean hasNoReader(Path path) throws NativeException {
    try {
      Fds.close(Fds.open(path, Fds.O_WRONLY | Fds.O_NONBLOCK | Fds.O_NOFOLLOW, 0));
      return false;
    } catch (NativeException e) {
      if (e.errno() == Errno.ENXIO) {
        return true;
      }
      throw e;
    }
  }

  /**
   * Removes the request FIFO and any connection FIFOs if the server that made them is gone (a
   * crash leaves them). Safe to call from a client or a new server: a live server's FIFO is left.
   *
   * @return true if a stale request FIFO was removed
   */
  boolean removeIfStale() {
    try {
      Fds.FileStatus before = Fds.status(requests());
      if (before == null || !before.isFifo() || !hasNoReader(requests())) {
        return false;
      }
      Fds.FileStatus now = Fds.status(requests());
      if (now == null || now.inode() != before.inode()) {
        return false; // Replaced meanwhile by a new server.
      }
      Fds.unlink(requests());
      sweepConnectionFifos();
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Removes connection FIFOs nobody reads: what a crash in the middle of a handshake left. */
  private void sweepConnectionFifos() throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path p : entries) {
        if (!CONNECTION_FIFO.matcher(p.getFileName().toString()).matches()) {
          continue;
        }
        Fds.FileStatus s = Fds.status(p);
        if (s != null && s.isFifo() && hasNoReader(p)) {
          Fds.unlink(p);
        }
      }
    }
  }
}
