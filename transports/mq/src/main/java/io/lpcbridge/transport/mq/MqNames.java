package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.Errno;
import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.transport.Target;
import java.nio.ByteBuffer;
import java.util.HexFormat;

/**
 * The queues of an {@code mq:///name} target: the well-known request queue {@code /name}, and per
 * connection {@code /name.<id>.up} (client to server) and {@code /name.<id>.dn}, unlinked as soon
 * as both sides have them open.
 *
 * <h2>Request (on /name) and welcome (first message on .dn)</h2>
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Magic "LPCQ" 0x4C504351                  |  MAGIC_OFFSET
 * +-------------------------------+-------------------------------+
 * |        Version (16) = 1       |   Kind (16): 1 REQUEST,       |  VERSION_OFFSET, KIND_OFFSET
 * |                               |   2 WELCOME                   |
 * +-------------------------------+-------------------------------+
 * |          Connection id (64): names the pair; 0 in WELCOME     |  ID_OFFSET
 * |                                                               |
 * +---------------------------------------------------------------+
 * |            Sender pid (32): polled through a pidfd            |  PID_OFFSET
 * +---------------------------------------------------------------+
 * |                      Reserved (96), zero                      |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * {@value #RECORD_BYTES} bytes. POSIX message queues have no end of file, so each side learns the
 * other's pid here and polls a pidfd for it: a peer's death is seen at once, like a pipe's EOF.
 *
 * <h2>Liveness of the request queue</h2>
 *
 * A queue outlives a crashed server. The server therefore holds {@code flock(LOCK_EX)} on its
 * request queue's descriptor for as long as it listens; whoever takes that lock (a client or a new
 * server) has proof that the server is gone and removes the queue.
 */
final class MqNames {
  static final int MAGIC = 0x4C504351;
  static final short VERSION = 1;
  static final short REQUEST = 1;
  static final short WELCOME = 2;
  static final int MAGIC_OFFSET = 0;
  static final int VERSION_OFFSET = 4;
  static final int KIND_OFFSET = 6;
  static final int ID_OFFSET = 8;
  static final int PID_OFFSET = 16;
  static final int RECORD_BYTES = 32;
  /** Message size of the request queue: a record, with room to spare for later versions. */
  static final int REQUEST_QUEUE_MESSAGE_SIZE = 64;
  static final int MODE = 0600;
  /** Longest name: NAME_MAX (255) less "/" and the ".<16 hex>.up" suffix. */
  static final int MAX_NAME = 255 - 1 - 20;

  final String name;
  final Target target;

  private MqNames(String name, Target target) {
    this.name = name;
    this.target = target;
  }

  /** Parses {@code mq:///name} or {@code mq:/name}. */
  static MqNames of(Target target) {
    String p = target.path();
    if (p.startsWith("@")) {
      throw new IllegalArgumentException("target '" + target + "': a message queue is named mq:///name");
    }
    String bare = p.startsWith("/") ? p.substring(1) : p;
    if (bare.isEmpty() || bare.indexOf('/') >= 0 || bare.indexOf('\0') >= 0) {
      throw new IllegalArgumentException(
          "target '" + target + "': a message queue name is one word without '/', as in mq:///my-service");
    }
    if (bare.length() > MAX_NAME) {
      throw new IllegalArgumentException(
          "target '" + target + "': the queue name has " + bare.length() + " characters, more than the " + MAX_NAME + " allowed");
    }
    return new MqNames("/" + bare, Target.of(MqTransportProvider.SCHEME, "//" + "/" + bare));
  }

  String up(long id) {
    return name + "." + HexFormat.of().toHexDigits(id) + ".up";
  }

  String down(long id) {
    return name + "." + HexFormat.of().toHexDigits(id) + ".dn";
  }

  static ByteBuffer record(short kind, long id, int pid) {
    ByteBuffer b = ByteBuffer.allocateDirect(RECORD_BYTES);
    b.putInt(MAGIC_OFFSET, MAGIC).putShort(VERSION_OFFSET, VERSION).putShort(KIND_OFFSET, kind).putLong(ID_OFFSET, id).putInt(PID_OFFSET, pid);
    return b;
  }

  /** Whether {@code b} (position 0, limit its length) is a version-1 record of {@code kind}. */
  static boolean isRecord(ByteBuffer b, short kind) {
    return b.limit() >= RECORD_BYTES
        && b.getInt(MAGIC_OFFSET) == MAGIC
        && b.getShort(VERSION_OFFSET) == VERSION
        && b.getShort(KIND_OFFSET) == kind;
  }

  /**
   * Removes the request queue if its server is gone: nobody holds its lock.
   *
   * @return true if a stale queue was removed
   */
  boolean removeIfStale() {
    int mqd;
    try {
      mqd = MessageQueues.open(name, Fds.O_RDONLY | Fds.O_NONBLOCK, 0, 0, 0);
    } catch (NativeException e) {
      return false;
    }
    try {
      if (!Fds.flock(mqd, Fds.LOCK_EX | Fds.LOCK_NB)) {
        return false;
      }
      // Unlink only the queue we hold locked, not one a new server made meanwhile.
      int again = MessageQueues.open(name, Fds.O_RDONLY | Fds.O_NONBLOCK, 0, 0, 0);
      try {
        if (Fds.status(again).inode() != Fds.status(mqd).inode()) {
          return false;
        }
      } finally {
        Fds.closeQuietly(again);
      }
      return MessageQueues.unlink(name);
    } catch (NativeException e) {
      return false;
    } finally {
      Fds.closeQuietly(mqd);
    }
  }

  /** Unlinks {@code queue}, ignoring that it is already gone. */
  static void unlinkQuietly(String queue) {
    try {
      MessageQueues.unlink(queue);
    } catch (NativeException e) {
      if (e.errno() != Errno.ENOENT) {
        System.getLogger(MqNames.class.getName()).log(System.Logger.Level.WARNING, "could not remove queue " + queue, e);
      }
    }
  }
}
