package io.lpcbridge.transport.unixdgram;

import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The datagrams that set a connection up on a {@code unix+dgram} socket.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * | Type (8): 16  |   Flags (8)   |         Reserved (16)         |  TYPE_OFFSET
 * | HELLO, 17     |      = 0      |                               |
 * | WELCOME, 18   |               |                               |
 * | REFUSE        |               |                               |
 * +---------------+---------------+-------------------------------+
 * |                     Magic "LPCD" 0x4C504344                   |  MAGIC_OFFSET
 * +-------------------------------+-------------------------------+
 * |        Version (16) = 1       |          Reserved (16)        |  VERSION_OFFSET
 * +-------------------------------+-------------------------------+
 * |         Largest datagram the sender sends and accepts (32)    |  DATAGRAM_OFFSET
 * +---------------------------------------------------------------+
 * |                  Nonce (128), chosen by the client,           |  NONCE_OFFSET
 * |                  echoed by the server                         |
 * |                                                               |
 * |                                                               |
 * +-------------------------------+-------------------------------+
 * |     Text Length (16)          |  Text (UTF-8) ...             |  TEXT_OFFSET
 * +-------------------------------+-------------------------------+
 * </pre>
 *
 * The types sit in the range the connection's datagrams ({@code Datagrams}) leave to handshakes,
 * so a stray one on a connection is a protocol error there. Text: HELLO, the client's own address
 * ({@code @name} or {@code /path}); WELCOME, the address of the socket the server made for this
 * connection; REFUSE, why. Both sides then use the smaller of the two datagram sizes.
 */
final class DgramHandshake {
  static final byte HELLO = 16;
  static final byte WELCOME = 17;
  static final byte REFUSE = 18;
  static final int MAGIC = 0x4C504344;
  static final short VERSION = 1;
  static final int TYPE_OFFSET = 0;
  static final int MAGIC_OFFSET = 4;
  static final int VERSION_OFFSET = 8;
  static final int DATAGRAM_OFFSET = 12;
  static final int NONCE_OFFSET = 16;
  static final int NONCE_BYTES = 16;
  static final int TEXT_OFFSET = 32;
  static final int MAX_TEXT = 512;
  static final int MAX_BYTES = TEXT_OFFSET + 2 + MAX_TEXT;

  /** A parsed handshake datagram. */
  record Message(byte type, int datagramSize, byte[] nonce, String text) {}

  private DgramHandshake() {}

  static ByteBuffer encode(byte type, int datagramSize, byte[] nonce, String text) {
    byte[] t = text.getBytes(StandardCharsets.UTF_8);
    if (t.length > MAX_TEXT) {
      t = java.util.Arrays.copyOf(t, MAX_TEXT);
    }
    ByteBuffer b = ByteBuffer.allocateDirect(TEXT_OFFSET + 2 + t.length);
    b.put(TYPE_OFFSET, type)
        .putInt(MAGIC_OFFSET, MAGIC)
        .putShort(VERSION_OFFSET, VERSION)
        .putInt(DATAGRAM_OFFSET, datagramSize)
        .put(NONCE_OFFSET, nonce)
        .putShort(TEXT_OFFSET, (short) t.length)
        .put(TEXT_OFFSET + 2, t);
    return b;
  }

  /**
   * Parses {@code b} (position 0 to limit).
   *
   * @throws ProtocolException naming what is wrong
   */
  static Message decode(ByteBuffer b) throws ProtocolException {
    if (b.limit() < TEXT_OFFSET + 2) {
      throw new ProtocolException("a handshake datagram of " + b.limit() + " bytes is shorter than its " + (TEXT_OFFSET + 2) + "-byte header");
    }
    if (b.getInt(MAGIC_OFFSET) != MAGIC) {
      throw new ProtocolException("a handshake datagram without the magic LPCD (0x" + Integer.toHexString(b.getInt(MAGIC_OFFSET)) + ")");
    }
    if (b.getShort(VERSION_OFFSET) != VERSION) {
      throw new ProtocolException("handshake version " + b.getShort(VERSION_OFFSET) + " is not the supported version " + VERSION);
    }
    byte type = b.get(TYPE_OFFSET);
    if (type != HELLO && type != WELCOME && type != REFUSE) {
      throw new ProtocolException("unknown handshake datagram type " + type);
    }
    int length = Short.toUnsignedInt(b.getShort(TEXT_OFFSET));
    if (length > MAX_TEXT || TEXT_OFFSET + 2 + length != b.limit()) {
      throw new ProtocolException("a handshake text of " + length + " bytes does not fit a datagram of " + b.limit() + " bytes");
    }
    byte[] nonce = new byte[NONCE_BYTES];
    b.get(NONCE_OFFSET, nonce);
    byte[] text = new byte[length];
    b.get(TEXT_OFFSET + 2, text);
    return new Message(type, b.getInt(DATAGRAM_OFFSET), nonce, new String(text, StandardCharsets.UTF_8));
  }
}
