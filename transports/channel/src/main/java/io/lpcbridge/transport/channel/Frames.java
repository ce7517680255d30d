package io.lpcbridge.transport.channel;

import java.io.EOFException;
import java.net.ProtocolException;

/**
 * The frame that carries one message over a byte stream.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |              payload length (big-endian, unsigned)            |  LENGTH_OFFSET
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                 payload (length bytes) ...                    |  PAYLOAD_OFFSET
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 *
 * Frames follow one another with no padding. A length above the receiver's {@code maxMessageSize}
 * (including any length with the top bit set) fails the connection: the stream cannot be resynchronised.
 */
final class Frames {
  static final int LENGTH_OFFSET = 0;
  static final int LENGTH_BYTES = Integer.BYTES;
  static final int PAYLOAD_OFFSET = LENGTH_OFFSET + LENGTH_BYTES;
  /** Bytes a frame adds to its payload. */
  static final int HEADER_BYTES = PAYLOAD_OFFSET;

  private Frames() {}

  static ProtocolException tooLarge(int length, int maxMessageSize) {
    return new ProtocolException(
        "frame length "
            + Integer.toUnsignedLong(length)
            + " exceeds maxMessageSize "
            + maxMessageSize
            + " (set the transport option maxMessageSize to raise it)");
  }

  static EOFException truncatedHeader(int arrived) {
    return new EOFException(
        "peer closed the connection in the middle of a frame header: "
            + arrived
            + " of "
            + HEADER_BYTES
            + " header bytes arrived");
  }

  static EOFException truncatedPayload(int arrived, int length) {
    return new EOFException(
        "peer closed the connection in the middle of a frame: "
            + arrived
            + " of "
            + length
            + " payload bytes arrived");
  }
}
