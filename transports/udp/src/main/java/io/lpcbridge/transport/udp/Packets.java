package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * Encoding and checking of the datagrams laid out in {@link Wire}, except the SESSION body, which
 * {@link ReliableSession} writes and checks. Every read of a length or offset here is checked
 * against the datagram's readable bytes first; nothing throws on bad input.
 */
final class Packets {
  private Packets() {}

  /** The outcome of checking a datagram's structure. */
  enum Check {
    OK,
    TRUNCATED,
    MALFORMED;

    /** The counter a datagram that failed this check is dropped under. */
    UdpStats.Counter dropped() {
      return this == TRUNCATED ? UdpStats.Counter.TRUNCATED_DROPPED : UdpStats.Counter.MALFORMED_DROPPED;
    }
  }

  /** The negotiable parameters one side announces in INIT, COOKIE and COOKIE_ECHO. */
  record Params(int datagramSize, int window, int maxMessageSize) {
    boolean valid() {
      return datagramSize >= Wire.MIN_DATAGRAM_SIZE && datagramSize <= Wire.MAX_DATAGRAM_SIZE
          && window >= 1 && window <= Wire.MAX_WINDOW && maxMessageSize >= 1024;
    }
  }

  // ---------------------------------------------------------------- common header

  /** Checks magic and version; the type is read separately. */
  static Check checkHeader(ByteBuf d) {
    if (d.readableBytes() < Wire.HEADER_LENGTH) {
      return Check.TRUNCATED;
    }
    int base = d.readerIndex();
    if (d.getUnsignedShort(base + Wire.MAGIC_OFFSET) != Wire.MAGIC
        || d.getUnsignedByte(base + Wire.VERSION_OFFSET) != Wire.VERSION) {
      return Check.MALFORMED;
    }
    return Check.OK;
  }

  static int type(ByteBuf d) {
    return d.getUnsignedByte(d.readerIndex() + Wire.TYPE_OFFSET);
  }

  static long destination(ByteBuf d) {
    return d.getLong(d.readerIndex() + Wire.DEST_CID_OFFSET);
  }

  static void writeHeader(ByteBuf d, int type, long destination) {
    d.writeShort(Wire.MAGIC);
    d.writeByte(Wire.VERSION);
    d.writeByte(type);
    d.writeLong(destination);
  }

  // ---------------------------------------------------------------- handshake

  /** INIT, padded with zeros to {@code params.datagramSize()} so the path is shown to carry it. */
  static void writeInit(ByteBuf d, long clientCid, Params params) {
    writeHeader(d, Wire.TYPE_INIT, 0);
    d.writeLong(clientCid);
    writeParams(d, params);
    d.writeZero(params.datagramSize() - Wire.INIT_LENGTH);
  }

  /** COOKIE (to the client) or COOKIE_ECHO (to the server): same layout. */
  static void writeCookie(ByteBuf d, int type, long destination, long cid, Params params, long timestamp, byte[] mac) {
    writeHeader(d, type, destination);
    d.writeLong(cid);
    writeParams(d, params);
    d.writeLong(timestamp);
    d.writeBytes(mac, 0, Wire.COOKIE_MAC_LENGTH);
  }

  static void writeAccept(ByteBuf d, long clientCid, long serverCid) {
    writeHeader(d, Wire.TYPE_ACCEPT, clientCid);
    d.writeLong(serverCid);
  }

  private static void writeParams(ByteBuf d, Params p) {
    d.writeShort(p.datagramSize());
    d.writeShort(0);
    d.writeInt(p.window());
    d.writeInt(p.maxMessageSize());
  }

  /** Checks the length of a handshake datagram of the type in its header. */
  static Check checkHandshake(ByteBuf d) {
    int need = switch (type(d)) {
      case Wire.TYPE_INIT -> Wire.INIT_LENGTH;
      case Wire.TYPE_COOKIE, Wire.TYPE_COOKIE_ECHO -> Wire.COOKIE_LENGTH;
      case Wire.TYPE_ACCEPT -> Wire.ACCEPT_LENGTH;
      default -> -1;
    };
    if (need < 0) {
      return Check.MALFORMED;
    }
    return d.readableBytes() < need ? Check.TRUNCATED : Check.OK;
  }

  /** The connection id in a checked INIT, COOKIE or COOKIE_ECHO. */
  static long handshakeCid(ByteBuf d) {
    return d.getLong(d.readerIndex() + Wire.HS_CID_OFFSET);
  }

  /** The parameters in a checked INIT, COOKIE or COOKIE_ECHO; check {@link Params#valid()}. */
  static Params handshakeParams(ByteBuf d) {
    int base = d.readerIndex();
    return new Params(
        d.getUnsignedShort(base + Wire.HS_DATAGRAM_SIZE_OFFSET),
        (int) Math.min(Integer.MAX_VALUE, d.getUnsignedInt(base + Wire.HS_WINDOW_OFFSET)),
        (int) Math.min(Integer.MAX_VALUE, d.getUnsignedInt(base + Wire.HS_MAX_MESSAGE_OFFSET)));
  }

  static long cookieTimestamp(ByteBuf d) {
    return d.getLong(d.readerIndex() + Wire.COOKIE_TIMESTAMP_OFFSET);
  }

  static byte[] cookieMac(ByteBuf d) {
    byte[] mac = new byte[Wire.COOKIE_MAC_LENGTH];
    d.getBytes(d.readerIndex() + Wire.COOKIE_MAC_OFFSET, mac);
    return mac;
  }

  static long acceptCid(ByteBuf d) {
    return d.getLong(d.readerIndex() + Wire.ACCEPT_CID_OFFSET);
  }

  // ---------------------------------------------------------------- REFUSE, RESET

  static void writeReason(ByteBuf d, int type, long destination, int code, String reason) {
    byte[] text = truncateUtf8(reason, Wire.MAX_REASON_BYTES);
    writeHeader(d, type, destination);
    d.writeShort(code);
    d.writeShort(text.length);
    d.writeBytes(text);
  }

  static int reasonPacketLength(String reason) {
    return Wire.REASON_TEXT_OFFSET + truncateUtf8(reason, Wire.MAX_REASON_BYTES).length;
  }

  /** Checks a REFUSE or RESET: the reason must fit in the datagram. */
  static Check checkReason(ByteBuf d) {
    if (d.readableBytes() < Wire.REASON_TEXT_OFFSET) {
      return Check.TRUNCATED;
    }
    int length = d.getUnsignedShort(d.readerIndex() + Wire.REASON_LENGTH_OFFSET);
    return d.readableBytes() - Wire.REASON_TEXT_OFFSET < length ? Check.TRUNCATED : Check.OK;
  }

  static int reasonCode(ByteBuf d) {
    return d.getUnsignedShort(d.readerIndex() + Wire.REASON_CODE_OFFSET);
  }

  /** The reason text of a checked REFUSE or RESET, with control characters replaced. */
  static String reasonText(ByteBuf d) {
    int length = d.getUnsignedShort(d.readerIndex() + Wire.REASON_LENGTH_OFFSET);
    String s = d.toString(d.readerIndex() + Wire.REASON_TEXT_OFFSET, length, StandardCharsets.UTF_8);
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints().forEach(c -> b.appendCodePoint(Character.isISOControl(c) ? '?' : c));
    return b.toString();
  }

  private static byte[] truncateUtf8(String s, int max) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (b.length <= max) {
      return b;
    }
    int end = max;
    while (end > 0 && (b[end] & 0xC0) == 0x80) {
      end--; // do not cut a character in half
    }
    return java.util.Arrays.copyOf(b, end);
  }
}
