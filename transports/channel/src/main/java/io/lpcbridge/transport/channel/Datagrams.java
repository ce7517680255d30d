package io.lpcbridge.transport.channel;

import java.net.ProtocolException;

/**
 * The header of every datagram of a datagram connection ({@link DatagramConnections}).
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |   Type (8)    |   Flags (8)   |         Reserved (16)         |  TYPE_OFFSET, FLAGS_OFFSET
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Value (32): DATA+FIRST: message length; other DATA:      |  VALUE_OFFSET
 * |      the offset of this fragment in its message; else 0       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            Fragment payload (rest of the datagram) ...        |  PAYLOAD_OFFSET
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Integers are big-endian; Reserved is sent as zero and ignored. Types: {@link #DATA} (flags
 * {@link #FIRST}, {@link #LAST}; a message that fits one datagram has both), {@link #PING} (a
 * liveness probe, ignored on receipt), {@link #BYE} (orderly close: the sender sends nothing
 * more), {@link #READY} (the client's first datagram where the server must not send before the
 * client is connected). Types 16 to 31 are the transports' own handshake datagrams and never
 * appear on a connection; any other type is a protocol error.
 *
 * <p>A message's fragments are sent back to back by one sender, in order, each as large as the
 * channel allows; only {@code PING} may come between them. The receiver checks every field: the
 * announced length against {@code maxMessageSize}, each fragment's offset against what has
 * arrived, the sum against the announced length.
 */
final class Datagrams {
  static final int TYPE_OFFSET = 0;
  static final int FLAGS_OFFSET = 1;
  static final int VALUE_OFFSET = 4;
  static final int PAYLOAD_OFFSET = 8;
  /** Bytes the header adds to each fragment. */
  static final int HEADER_BYTES = PAYLOAD_OFFSET;

  static final byte DATA = 1;
  static final byte PING = 2;
  static final byte BYE = 3;
  static final byte READY = 4;

  static final byte FIRST = 0x1;
  static final byte LAST = 0x2;

  private Datagrams() {}

  static ProtocolException tooLarge(int length, int maxMessageSize) {
    return new ProtocolException(
        "message length " + Integer.toUnsignedLong(length) + " exceeds maxMessageSize " + maxMessageSize
            + " (set the transport option maxMessageSize to raise it)");
  }

  static String typeName(int type) {
    return switch (type) {
      case DATA -> "DATA";
      case PING -> "PING";
      case BYE -> "BYE";
      case READY -> "READY";
      default -> "type " + type;
    };
  }
}
