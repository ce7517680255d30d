package io.lpcbridge.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.io.EOFException;
import java.net.ProtocolException;
import java.util.List;

/**
 * Cuts the TCP byte stream into messages. Each message travels as one frame:
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |            payload length (unsigned, big-endian)              |
 * +---------------------------------------------------------------+
 * |                    payload (length bytes)                   ...
 * +---------------------------------------------------------------+
 * </pre>
 *
 * The length is read as unsigned so a hostile {@code 0xFFFFFFFF} is reported as 4294967295, not
 * -1. A length over maxMessageSize fails the connection before any payload is buffered: the peer
 * cannot make this side allocate more than maxMessageSize. Frames are emitted as retained slices of
 * the cumulation buffer, so a frame that arrived contiguously is never copied.
 */
final class FrameDecoder extends ByteToMessageDecoder {
  /** Bytes in the length prefix. */
  static final int HEADER_BYTES = Integer.BYTES;

  private final int maxMessageSize;
  private boolean failed;
  private EOFException truncation;

  FrameDecoder(int maxMessageSize) {
    this.maxMessageSize = maxMessageSize;
  }

  /** The error for a peer-announced length over the limit; the text is part of the tested contract. */
  static ProtocolException frameTooLarge(long length, int maxMessageSize) {
    return new ProtocolException(
        "frame length " + length + " exceeds maxMessageSize " + maxMessageSize
            + " (set the transport option maxMessageSize to raise it)");
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws ProtocolException {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (in.readableBytes() < HEADER_BYTES) {
      return;
    }
    long length = in.getUnsignedInt(in.readerIndex());
    if (length > maxMessageSize) {
      failed = true;
      in.skipBytes(in.readableBytes());
      throw frameTooLarge(length, maxMessageSize);
    }
    if (in.readableBytes() < HEADER_BYTES + length) {
      return;
    }
    in.skipBytes(HEADER_BYTES);
    out.add(in.readRetainedSlice((int) length));
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
    if (in.isReadable()) {
      decode(ctx, in, out);
    }
    if (in.isReadable() && !failed) {
      // Recorded rather than thrown: Netty would report an exception from here only after the
      // channel-inactive event, too late for onClosed to carry it.
      int partial = in.readableBytes();
      in.skipBytes(partial);
      truncation =
          new EOFException(
              "peer closed the connection in the middle of a frame (" + partial + " bytes of it received)");
    }
  }

  /** Set when the input ended inside a frame; read by the connection when the input ends. */
  EOFException truncation() {
    return truncation;
  }
}
