package io.lpcbridge.transport.testkit;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;

/**
 * Self-checking test messages: who sent it, its sequence number, a payload derived from both, and
 * a checksum over everything before it, so a receiver can tell loss, reordering, duplication and
 * interleaving apart.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          sender id                            |
 * +---------------------------------------------------------------+
 * |                      sequence (64 bits)                       |
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                       payload length                          |
 * +---------------------------------------------------------------+
 * |           payload (pseudo-random from sender and sequence)  ...
 * +---------------------------------------------------------------+
 * |              CRC32C of all bytes above (32 bits)              |
 * +---------------------------------------------------------------+
 * </pre>
 *
 * All fields are big-endian.
 */
public final class NumberedMessage {
  private static final int SENDER_OFFSET = 0;
  private static final int SEQUENCE_OFFSET = SENDER_OFFSET + Integer.BYTES;
  private static final int LENGTH_OFFSET = SEQUENCE_OFFSET + Long.BYTES;
  private static final int PAYLOAD_OFFSET = LENGTH_OFFSET + Integer.BYTES;
  /** Bytes a message has besides its payload. */
  public static final int OVERHEAD = PAYLOAD_OFFSET + Integer.BYTES;

  /** A message as decoded and verified. */
  public record Header(int sender, long sequence, int payloadLength) {}

  private NumberedMessage() {}

  /** Encodes message {@code sequence} of {@code sender} with a payload of {@code payloadLength} bytes. */
  public static ByteBuffer encode(int sender, long sequence, int payloadLength) {
    ByteBuffer b = ByteBuffer.allocate(OVERHEAD + payloadLength);
    b.putInt(sender).putLong(sequence).putInt(payloadLength);
    SplittableRandom random = new SplittableRandom(sender * 1_000_003L ^ sequence);
    for (int i = 0; i < payloadLength; i++) {
      b.put((byte) random.nextInt());
    }
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue());
    return b.flip();
  }

  /**
   * Decodes and verifies a message.
   *
   * @throws AssertionError naming what is wrong: the length, the checksum or the payload
   */
  public static Header decode(byte[] message) {
    if (message.length < OVERHEAD) {
      throw new AssertionError("numbered message of " + message.length + " bytes is shorter than its header");
    }
    ByteBuffer b = ByteBuffer.wrap(message);
    int sender = b.getInt(SENDER_OFFSET);
    long sequence = b.getLong(SEQUENCE_OFFSET);
    int length = b.getInt(LENGTH_OFFSET);
    if (length != message.length - OVERHEAD) {
      throw new AssertionError(
          "numbered message (sender " + sender + ", seq " + sequence + ") announces payload " + length
              + " but carries " + (message.length - OVERHEAD) + " bytes: truncated or interleaved");
    }
    CRC32C crc = new CRC32C();
    crc.update(message, 0, message.length - Integer.BYTES);
    if ((int) crc.getValue() != b.getInt(message.length - Integer.BYTES)) {
      throw new AssertionError(
          "numbered message (sender " + sender + ", seq " + sequence + ", " + message.length
              + " bytes) fails its checksum: corrupted or interleaved");
    }
    return new Header(sender, sequence, length);
  }

  /** A payload pattern for size tests: byte {@code i} of a message of {@code size} bytes. */
  public static byte patternByte(int size, int i) {
    return (byte) (i * 31 + size + (i >>> 8));
  }

  /** A message of {@code size} bytes filled with {@link #patternByte}. */
  public static byte[] pattern(int size) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = patternByte(size, i);
    }
    return b;
  }
}
