package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.Datagrams.FIRST;
import static io.lpcbridge.transport.channel.Datagrams.HEADER_BYTES;
import static io.lpcbridge.transport.channel.Datagrams.LAST;

import io.lpcbridge.transport.MessageHandler;
import java.net.ProtocolException;
import java.nio.ByteBuffer;

/**
 * Reassembles {@link Datagrams#DATA} fragments into messages. A message in one datagram is handed
 * to the handler in place, as a slice of the receive buffer; a fragmented one is copied into a
 * buffer of its announced length (at most {@code maxMessageSize}). Every inconsistency is a {@link
 * ProtocolException} naming it. Not thread-safe: the reader thread's.
 */
final class DatagramDecoder {
  private final int maxMessageSize;
  /** The message being reassembled, or null. */
  private ByteBuffer assembly;

  DatagramDecoder(int maxMessageSize) {
    this.maxMessageSize = maxMessageSize;
  }

  /**
   * One DATA datagram: {@code datagram} holds it from 0 to its limit, header included.
   *
   * @throws ProtocolException when it does not fit what came before
   */
  void data(ByteBuffer datagram, MessageHandler handler) throws ProtocolException {
    int flags = datagram.get(Datagrams.FLAGS_OFFSET);
    int value = datagram.getInt(Datagrams.VALUE_OFFSET);
    int payload = datagram.limit() - HEADER_BYTES;
    boolean first = (flags & FIRST) != 0;
    boolean last = (flags & LAST) != 0;
    if (first) {
      if (assembly != null) {
        throw new ProtocolException(
            "a new message began after " + assembly.position() + " of " + assembly.capacity()
                + " bytes of the previous one: its last fragment never came");
      }
      if (value < 0 || value > maxMessageSize) {
        throw Datagrams.tooLarge(value, maxMessageSize);
      }
      if (last) {
        if (payload != value) {
          throw new ProtocolException("a one-fragment message announces " + value + " bytes but carries " + payload);
        }
        handler.onMessage(datagram.slice(HEADER_BYTES, payload));
        return;
      }
      if (payload == 0 || payload >= value) {
        throw new ProtocolException(
            "a first fragment of " + payload + " bytes for a message of " + value + " bytes without the LAST flag");
      }
      assembly = ByteBuffer.allocate(value);
      assembly.put(assembly.position(), datagram, HEADER_BYTES, payload).position(payload);
      return;
    }
    if (assembly == null) {
      throw new ProtocolException("a fragment at offset " + Integer.toUnsignedLong(value) + " arrived with no message begun");
    }
    if (value != assembly.position()) {
      throw new ProtocolException(
          "a fragment at offset " + Integer.toUnsignedLong(value) + " arrived where offset " + assembly.position() + " was due");
    }
    if (payload == 0 || payload > assembly.remaining()) {
      throw new ProtocolException(
          "a fragment of " + payload + " bytes at offset " + value + " does not fit a message of " + assembly.capacity() + " bytes");
    }
    assembly.put(assembly.position(), datagram, HEADER_BYTES, payload).position(value + payload);
    if (last != !assembly.hasRemaining()) {
      throw new ProtocolException(
          last
              ? "the last fragment ends at " + assembly.position() + " of " + assembly.capacity() + " bytes"
              : "a message of " + assembly.capacity() + " bytes is complete but its last fragment lacks the LAST flag");
    }
    if (last) {
      ByteBuffer message = assembly.flip();
      assembly = null;
      handler.onMessage(message);
    }
  }

  /** Bytes of a message in progress, for messages at end of stream. */
  int pending() {
    return assembly == null ? 0 : assembly.position();
  }
}
