package io.lpcbridge.transport.udp;

/**
 * The udp transport's datagram layouts: offsets, sizes and codes, derived from named constants.
 * The specification, with the reasoning, is {@code docs/udp.md}. All integers are unsigned
 * big-endian.
 *
 * <h2>Common header (every datagram)</h2>
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Magic 0x4C55 "LU"     |  Version = 1  |   Type (8)    |
 * +-------------------------------+---------------+---------------+
 * |                Destination Connection Id (64)                 |
 * |                  (0 in INIT: none chosen yet)                 |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>INIT, COOKIE and COOKIE_ECHO (handshake)</h2>
 *
 * <pre>
 * +---------------------------------------------------------------+
 * |  Connection Id (64): INIT, COOKIE_ECHO: the client's;         |
 * |                      COOKIE: the server's                     |
 * +-------------------------------+-------------------------------+
 * |   Max Datagram Size (16)      |         Reserved (16)         |
 * +-------------------------------+-------------------------------+
 * |               Receive Window (32), in segments                |
 * +---------------------------------------------------------------+
 * |                   Max Message Size (32)                       |
 * +---------------------------------------------------------------+   INIT ends here, then
 * |            Cookie Timestamp (64), server clock, ms            |   zero padding up to its
 * |                                                               |   Max Datagram Size
 * +---------------------------------------------------------------+
 * |                     Cookie MAC (128)                          |
 * |                                                               |
 * |                                                               |
 * |                                                               |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>ACCEPT</h2>
 *
 * <pre>
 * +---------------------------------------------------------------+
 * |                Server Connection Id (64)                      |
 * |                                                               |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>REFUSE and RESET</h2>
 *
 * <pre>
 * +-------------------------------+-------------------------------+
 * |        Reason Code (16)       |     Reason Length (16)        |
 * +-------------------------------+-------------------------------+
 * |            Reason (UTF-8, Reason Length bytes) ...            |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * <h2>SESSION (data, acknowledgements, keepalive)</h2>
 *
 * <pre>
 * +---------------+---------------+-------------------------------+
 * |   Flags (8)   | SACK Count (8)|         Reserved (16)         |
 * +---------------+---------------+-------------------------------+
 * |     Cumulative Ack (64): the next sequence number expected    |
 * |                                                               |
 * +---------------------------------------------------------------+
 * |               Receive Window (32), in segments                |
 * +---------------------------------------------------------------+
 * |   SACK Start (32), from Cumulative Ack  |  repeated SACK Count  |
 * +---------------------------------------------------------------+   times, ascending
 * |   SACK Length (32), in segments         |                       |
 * +---------------------------------------------------------------+
 * |                    Chunks, to the end of the datagram ...     |
 * +---------------------------------------------------------------+
 *
 * Chunk:
 * +---------------------------------------------------------------+
 * |                   Sequence Number (64)                        |
 * |                                                               |
 * +---------------------------------------------------------------+
 * |            Message Length (32): the whole message             |
 * +---------------------------------------------------------------+
 * |            Offset (32): of this chunk in the message          |
 * +-------------------------------+---------------+---------------+
 * |      Chunk Length (16)        | Chunk Flags(8)|  Reserved (8) |
 * +-------------------------------+---------------+---------------+
 * |                 Data (Chunk Length bytes) ...                 |
 * +---------------------------------------------------------------+
 * </pre>
 */
final class Wire {
  private Wire() {}

  static final int MAGIC = 0x4C55;
  static final int VERSION = 1;

  // ---------------------------------------------------------------- types
  static final int TYPE_INIT = 1;
  static final int TYPE_COOKIE = 2;
  static final int TYPE_COOKIE_ECHO = 3;
  static final int TYPE_ACCEPT = 4;
  static final int TYPE_REFUSE = 5;
  static final int TYPE_SESSION = 6;
  static final int TYPE_RESET = 7;

  // ---------------------------------------------------------------- common header
  static final int MAGIC_OFFSET = 0;
  static final int VERSION_OFFSET = MAGIC_OFFSET + Short.BYTES;
  static final int TYPE_OFFSET = VERSION_OFFSET + Byte.BYTES;
  static final int DEST_CID_OFFSET = TYPE_OFFSET + Byte.BYTES;
  static final int HEADER_LENGTH = DEST_CID_OFFSET + Long.BYTES;

  // ---------------------------------------------------------------- handshake body
  static final int HS_CID_OFFSET = HEADER_LENGTH;
  static final int HS_DATAGRAM_SIZE_OFFSET = HS_CID_OFFSET + Long.BYTES;
  static final int HS_WINDOW_OFFSET = HS_DATAGRAM_SIZE_OFFSET + Integer.BYTES;
  static final int HS_MAX_MESSAGE_OFFSET = HS_WINDOW_OFFSET + Integer.BYTES;
  /** INIT's fixed part; the client pads INIT with zeros to its max datagram size. */
  static final int INIT_LENGTH = HS_MAX_MESSAGE_OFFSET + Integer.BYTES;
  static final int COOKIE_TIMESTAMP_OFFSET = INIT_LENGTH;
  static final int COOKIE_MAC_OFFSET = COOKIE_TIMESTAMP_OFFSET + Long.BYTES;
  static final int COOKIE_MAC_LENGTH = 16;
  /** COOKIE and COOKIE_ECHO have the same length. */
  static final int COOKIE_LENGTH = COOKIE_MAC_OFFSET + COOKIE_MAC_LENGTH;

  static final int ACCEPT_CID_OFFSET = HEADER_LENGTH;
  static final int ACCEPT_LENGTH = ACCEPT_CID_OFFSET + Long.BYTES;

  static final int REASON_CODE_OFFSET = HEADER_LENGTH;
  static final int REASON_LENGTH_OFFSET = REASON_CODE_OFFSET + Short.BYTES;
  static final int REASON_TEXT_OFFSET = REASON_LENGTH_OFFSET + Short.BYTES;
  /** Longest reason sent: keeps REFUSE well below the smallest INIT, so it cannot amplify. */
  static final int MAX_REASON_BYTES = 200;

  // ---------------------------------------------------------------- session
  static final int FLAGS_OFFSET = HEADER_LENGTH;
  static final int SACK_COUNT_OFFSET = FLAGS_OFFSET + Byte.BYTES;
  static final int CUM_ACK_OFFSET = SACK_COUNT_OFFSET + Byte.BYTES + Short.BYTES;
  static final int WINDOW_OFFSET = CUM_ACK_OFFSET + Long.BYTES;
  static final int SACKS_OFFSET = WINDOW_OFFSET + Integer.BYTES;
  /** A SESSION datagram without SACK blocks or chunks: a pure acknowledgement. */
  static final int SESSION_HEADER_LENGTH = SACKS_OFFSET;
  static final int SACK_BLOCK_LENGTH = Integer.BYTES + Integer.BYTES;
  static final int MAX_SACK_BLOCKS = 255;

  /** Flag: answer this datagram with an acknowledgement at once (retransmissions, FIN). */
  static final int FLAG_ACK_NOW = 0x01;
  /** Flag: keepalive probe; asks for an acknowledgement even though it carries no chunk. */
  static final int FLAG_PING = 0x02;

  static final int CHUNK_SEQ_OFFSET = 0;
  static final int CHUNK_MESSAGE_LENGTH_OFFSET = CHUNK_SEQ_OFFSET + Long.BYTES;
  static final int CHUNK_OFFSET_OFFSET = CHUNK_MESSAGE_LENGTH_OFFSET + Integer.BYTES;
  static final int CHUNK_LENGTH_OFFSET = CHUNK_OFFSET_OFFSET + Integer.BYTES;
  static final int CHUNK_FLAGS_OFFSET = CHUNK_LENGTH_OFFSET + Short.BYTES;
  static final int CHUNK_HEADER_LENGTH = CHUNK_FLAGS_OFFSET + Byte.BYTES + Byte.BYTES;

  /** Chunk flag: the sender's last chunk; it carries no data. */
  static final int CHUNK_FIN = 0x01;

  // ---------------------------------------------------------------- sizes
  /** The smallest datagram size a side may configure; also the smallest INIT accepted. */
  static final int MIN_DATAGRAM_SIZE = 512;
  /** The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP). */
  static final int MAX_DATAGRAM_SIZE = 65_507;
  /** Largest receive window a peer may announce, in segments. */
  static final int MAX_WINDOW = 1 << 20;

  // ---------------------------------------------------------------- reason codes
  static final int REFUSE_LISTENER_CLOSED = 1;
  static final int REFUSE_TOO_MANY_FROM_HOST = 2;
  static final int REFUSE_TOO_MANY = 3;

  static final int RESET_PROTOCOL_ERROR = 1;
  static final int RESET_IDLE_TIMEOUT = 2;
  static final int RESET_LINGER_EXPIRED = 3;
  static final int RESET_LOCAL_FAILURE = 4;

  static String typeName(int type) {
    return switch (type) {
      case TYPE_INIT -> "INIT";
      case TYPE_COOKIE -> "COOKIE";
      case TYPE_COOKIE_ECHO -> "COOKIE_ECHO";
      case TYPE_ACCEPT -> "ACCEPT";
      case TYPE_REFUSE -> "REFUSE";
      case TYPE_SESSION -> "SESSION";
      case TYPE_RESET -> "RESET";
      default -> "type " + type;
    };
  }
}
