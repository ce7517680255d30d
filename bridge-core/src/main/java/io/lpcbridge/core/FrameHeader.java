package io.lpcbridge.core;

/**
 * The fixed binary header in front of every frame of the bridge wire protocol ({@code
 * docs/wire-protocol.md}). A transport message carries one or more frames back to back.
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                     Payload Length (32)                       |  LENGTH_OFFSET
 *  +---------------+---------------+-------------------------------+
 *  |   Type (8)    |   Flags (8)   |         Reserved (16)         |  TYPE_OFFSET, FLAGS_OFFSET
 *  +---------------+---------------+-------------------------------+
 *  |                       Stream Id (32)                          |  STREAM_ID_OFFSET
 *  +---------------------------------------------------------------+
 *  |                    Payload (Length bytes) ...                 |  HEADER_LENGTH
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * All integers are big-endian (network order). The length counts the payload only, so a frame
 * occupies {@code HEADER_LENGTH + length} bytes. Reserved bits are sent as zero and ignored.
 * Stream id 0 is the connection itself (HELLO, PING, GOAWAY); calls use ids from 1.
 */
public final class FrameHeader {
  public static final int LENGTH_OFFSET = 0;
  public static final int TYPE_OFFSET = LENGTH_OFFSET + Integer.BYTES;
  public static final int FLAGS_OFFSET = TYPE_OFFSET + Byte.BYTES;
  public static final int RESERVED_OFFSET = FLAGS_OFFSET + Byte.BYTES;
  public static final int STREAM_ID_OFFSET = RESERVED_OFFSET + Short.BYTES;
  public static final int HEADER_LENGTH = STREAM_ID_OFFSET + Integer.BYTES;

  // Frame types. The numbers are part of the protocol: never renumber.
  /** Connection preface and settings; first frame each way. Stream 0. */
  public static final byte HELLO = 0x0;
  /** Opens a call: deadline, method, then protobuf metadata. Client to server. */
  public static final byte CALL_START = 0x1;
  /** One serialized request or response message. */
  public static final byte MESSAGE = 0x2;
  /** The sender will send no more messages on the stream. Client to server. */
  public static final byte HALF_CLOSE = 0x3;
  /** Abandons a call: status code and reason. Either way. */
  public static final byte CANCEL = 0x4;
  /** Response headers (protobuf metadata). Server to client, at most once, before messages. */
  public static final byte HEADERS = 0x5;
  /** Ends a call: status code, message, then protobuf metadata. Server to client. */
  public static final byte TRAILERS = 0x6;
  /** Returns flow-control credit for a stream, in payload bytes. */
  public static final byte WINDOW_UPDATE = 0x7;
  /** Liveness and round-trip probe; answered with the ACK flag. Stream 0. */
  public static final byte PING = 0x8;
  /** The sender accepts no new calls; last stream id it will process, code, reason. Stream 0. */
  public static final byte GOAWAY = 0x9;

  static final byte MAX_TYPE = GOAWAY;

  // Flags.
  /** MESSAGE: the last message of its sender on this stream (a HALF_CLOSE folded in). */
  public static final byte FLAG_END_STREAM = 0x1;
  /** PING: this is the answer. */
  public static final byte FLAG_ACK = 0x1;

  private FrameHeader() {}

  public static String typeName(int type) {
    return switch (type) {
      case HELLO -> "HELLO";
      case CALL_START -> "CALL_START";
      case MESSAGE -> "MESSAGE";
      case HALF_CLOSE -> "HALF_CLOSE";
      case CANCEL -> "CANCEL";
      case HEADERS -> "HEADERS";
      case TRAILERS -> "TRAILERS";
      case WINDOW_UPDATE -> "WINDOW_UPDATE";
      case PING -> "PING";
      case GOAWAY -> "GOAWAY";
      default -> "0x" + Integer.toHexString(type & 0xff);
    };
  }
}
