package io.lpcbridge.core;

import static io.lpcbridge.core.FrameHeader.FLAGS_OFFSET;
import static io.lpcbridge.core.FrameHeader.HEADER_LENGTH;
import static io.lpcbridge.core.FrameHeader.LENGTH_OFFSET;
import static io.lpcbridge.core.FrameHeader.MAX_TYPE;
import static io.lpcbridge.core.FrameHeader.STREAM_ID_OFFSET;
import static io.lpcbridge.core.FrameHeader.TYPE_OFFSET;

import java.nio.ByteBuffer;

/**
 * Splits a transport message into frames and checks every length and type before anything is
 * read past the header. Stateless.
 */
final class FrameReader {
  private FrameReader() {}

  /**
   * Calls {@code visitor} once per frame in {@code message}, in order, with a slice of the payload
   * (no copy).
   *
   * @throws ProtocolException for a truncated header, a length running past the message, or an
   *     unknown frame type; frames before the bad one have been delivered
   */
  static void read(ByteBuffer message, FrameVisitor visitor) throws ProtocolException {
    int pos = message.position();
    int end = message.limit();
    while (pos < end) {
      int left = end - pos;
      if (left < HEADER_LENGTH) {
        throw new ProtocolException(
            GoAwayCodes.PROTOCOL_ERROR,
            "truncated frame: " + left + " bytes left in the message, a frame header needs " + HEADER_LENGTH);
      }
      int length = message.getInt(pos + LENGTH_OFFSET);
      byte type = message.get(pos + TYPE_OFFSET);
      byte flags = message.get(pos + FLAGS_OFFSET);
      int streamId = message.getInt(pos + STREAM_ID_OFFSET);
      if (length < 0 || length > left - HEADER_LENGTH) {
        throw new ProtocolException(
            GoAwayCodes.PROTOCOL_ERROR,
            "truncated " + FrameHeader.typeName(type) + " frame: payload length " + Integer.toUnsignedString(length)
                + " but only " + (left - HEADER_LENGTH) + " bytes follow the header");
      }
      if (type < 0 || type > MAX_TYPE) {
        throw new ProtocolException(
            GoAwayCodes.PROTOCOL_ERROR, "unknown frame type " + FrameHeader.typeName(type) + " on stream " + streamId);
      }
      int payloadStart = pos + HEADER_LENGTH;
      visitor.onFrame(type, flags, streamId, message.slice(payloadStart, length));
      pos = payloadStart + length;
    }
  }
}
