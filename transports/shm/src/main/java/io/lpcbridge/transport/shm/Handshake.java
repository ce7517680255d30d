package io.lpcbridge.transport.shm;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The three messages exchanged on the rendezvous socket before a connection starts (big-endian, as
 * {@link DataOutputStream} writes them). After MAPPED nothing more is sent: the socket stays open
 * only so that each side sees the other's death as end of file.
 *
 * <pre>
 *  HELLO, client to server (24 bytes)
 *  +---------------------------------------------------------------+
 *  |                     Magic "LPSH" (32)                         |
 *  +-------------------------------+-------------------------------+
 *  |        Version (16) = 1       |         Reserved (16)         |
 *  +-------------------------------+-------------------------------+
 *  |       Requested Ring Capacity (32), 0 = the server's choice   |
 *  +---------------+-----------------------------------------------+
 *  | Idle (8)      |                 Reserved (24)                 |
 *  +---------------+-----------------------------------------------+
 *  |                     Client Pid (64)                           |
 *  +---------------------------------------------------------------+
 *
 *  REPLY, server to client (20 bytes + Message Length); on ACCEPT it carries the segment's memfd
 *  as SCM_RIGHTS ancillary data
 *  +---------------------------------------------------------------+
 *  |                     Magic "LPSH" (32)                         |
 *  +---------------+---------------+-------------------------------+
 *  | Status (8)    | Idle (8)      |     Message Length (16)       |
 *  +---------------+---------------+-------------------------------+
 *  |                     Ring Capacity (32)                        |
 *  +---------------------------------------------------------------+
 *  |                     Segment Length (64)                       |
 *  +---------------------------------------------------------------+
 *  |          Message (UTF-8, why the server refused) ...          |
 *  +---------------------------------------------------------------+
 *  Status: 0 ACCEPT, 1 REFUSED.  Idle: the sender's {@link IdleStrategy} ordinal.
 *
 *  MAPPED, client to server (8 bytes): the client has mapped the segment
 *  +---------------------------------------------------------------+
 *  |                     Magic "LPSH" (32)                         |
 *  +---------------------------------------------------------------+
 *  |                     Reserved (32) = 0                         |
 *  +---------------------------------------------------------------+
 * </pre>
 */
final class Handshake {
  static final int MAGIC = SegmentDescriptor.MAGIC;
  static final int VERSION = 1;
  static final int ACCEPT = 0;
  static final int REFUSED = 1;
  static final int HELLO_LENGTH = 24;
  static final int REPLY_LENGTH = 20;
  static final int MAPPED_LENGTH = 8;
  private static final int MAX_MESSAGE = 4096;

  private Handshake() {}

  record Hello(int requestedCapacity, IdleStrategy idle, long pid) {}

  record Reply(int status, IdleStrategy idle, int capacity, long segmentLength, String message) {}

  static byte[] hello(int requestedCapacity, IdleStrategy idle, long pid) {
    return ByteBuffer.allocate(HELLO_LENGTH)
        .putInt(MAGIC)
        .putShort((short) VERSION)
        .putShort((short) 0)
        .putInt(requestedCapacity)
        .putInt(idle.code() << 24)
        .putLong(pid)
        .array();
  }

  static Hello readHello(InputStream in) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(readFully(in, HELLO_LENGTH, "HELLO"));
    int magic = b.getInt();
    int version = b.getShort() & 0xFFFF;
    b.getShort();
    checkMagic(magic, "HELLO");
    if (version != VERSION) {
      throw new ShmProtocolException(
          "the client speaks shm handshake version " + version + ", this server " + VERSION + "; use the same bridge version");
    }
    int capacity = b.getInt();
    IdleStrategy idle = IdleStrategy.fromCode(b.getInt() >>> 24);
    long pid = b.getLong();
    if (idle == null) {
      throw new ShmProtocolException("the client's HELLO names an unknown idle strategy");
    }
    return new Hello(capacity, idle, pid);
  }

  static byte[] accept(IdleStrategy idle, int capacity, long segmentLength) {
    return reply(ACCEPT, idle, capacity, segmentLength, "");
  }

  static byte[] refused(String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    if (m.length > MAX_MESSAGE) {
      m = java.util.Arrays.copyOf(m, MAX_MESSAGE);
    }
    return reply(REFUSED, IdleStrategy.DEFAULT, 0, 0, new String(m, StandardCharsets.UTF_8));
  }

  private static byte[] reply(int status, IdleStrategy idle, int capacity, long segmentLength, String message) {
    byte[] m = message.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(REPLY_LENGTH + m.length)
        .putInt(MAGIC)
        .put((byte) status)
        .put((byte) idle.code())
        .putShort((short) m.length)
        .putInt(capacity)
        .putLong(segmentLength)
        .put(m)
        .array();
  }

  static Reply readReply(InputStream in) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(readFully(in, REPLY_LENGTH, "the server's reply"));
    checkMagic(b.getInt(), "the server's reply");
    int status = b.get() & 0xFF;
    IdleStrategy idle = IdleStrategy.fromCode(b.get() & 0xFF);
    int messageLength = b.getShort() & 0xFFFF;
    int capacity = b.getInt();
    long segmentLength = b.getLong();
    if (messageLength > MAX_MESSAGE) {
      throw new ShmProtocolException("the server's reply announces a " + messageLength + "-byte message, over " + MAX_MESSAGE);
    }
    String message = new String(readFully(in, messageLength, "the server's reply message"), StandardCharsets.UTF_8);
    if (status != ACCEPT && status != REFUSED) {
      throw new ShmProtocolException("the server's reply has unknown status " + status);
    }
    if (status == ACCEPT && idle == null) {
      throw new ShmProtocolException("the server's reply names an unknown idle strategy");
    }
    return new Reply(status, idle, capacity, segmentLength, message);
  }

  static byte[] mapped() {
    return ByteBuffer.allocate(MAPPED_LENGTH).putInt(MAGIC).putInt(0).array();
  }

  static void readMapped(InputStream in) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(readFully(in, MAPPED_LENGTH, "MAPPED"));
    checkMagic(b.getInt(), "MAPPED");
  }

  static void write(OutputStream out, byte[] message) throws IOException {
    out.write(message);
    out.flush();
  }

  private static void checkMagic(int magic, String what) throws ShmProtocolException {
    if (magic != MAGIC) {
      throw new ShmProtocolException(String.format(
          "%s starts with 0x%08x, not the shm magic 0x%08x: the peer is not an shm transport endpoint", what, magic, MAGIC));
    }
  }

  private static byte[] readFully(InputStream in, int n, String what) throws IOException {
    byte[] b = new byte[n];
    try {
      new DataInputStream(in).readFully(b);
    } catch (EOFException e) {
      throw new EOFException("the peer closed the rendezvous socket before sending " + what);
    } catch (SocketTimeoutException e) {
      SocketTimeoutException t = new SocketTimeoutException("no " + what + " from the peer within connectTimeout");
      t.initCause(e);
      throw t;
    }
    return b;
  }
}
