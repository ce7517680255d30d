package io.lpcbridge.bench;

import java.nio.ByteBuffer;

/**
 * The floor's protocol, the least a benchmark peer can do: one byte of operation, then its
 * arguments, padded to the payload size. The same messages go over SPI connections (whole messages)
 * and over plain sockets (each behind a 4-byte big-endian length).
 *
 * <pre>
 *  ECHO   'E' sentTime(8) padding...        answered by the same bytes
 *  STREAM 'S' count(4) size(4)              answered by count DATA messages of size bytes
 *  DATA   'D' padding...                    counted by the receiver
 *  FINISH 'F'                               answered by ACK with the DATA count since the last FINISH
 *  ACK    'A' count(8)
 * </pre>
 */
final class RawProtocol {
  static final byte ECHO = 'E';
  static final byte STREAM = 'S';
  static final byte DATA = 'D';
  static final byte FINISH = 'F';
  static final byte ACK = 'A';

  /** The smallest message that can carry every operation. */
  static final int MIN_SIZE = 16;

  private RawProtocol() {}

  /** A message of {@code size} bytes, ready to send (position 0, limit size). */
  static ByteBuffer echo(ByteBuffer buf, int size, long sentNanos) {
    buf.clear().limit(size);
    buf.put(0, ECHO).putLong(1, sentNanos);
    return buf;
  }

  static ByteBuffer stream(ByteBuffer buf, int count, int size) {
    buf.clear().limit(9);
    buf.put(0, STREAM).putInt(1, count).putInt(5, size);
    return buf;
  }

  static ByteBuffer data(ByteBuffer buf, int size) {
    buf.clear().limit(size);
    buf.put(0, DATA);
    return buf;
  }

  static ByteBuffer finish(ByteBuffer buf) {
    buf.clear().limit(1);
    buf.put(0, FINISH);
    return buf;
  }

  static ByteBuffer ack(ByteBuffer buf, long count) {
    buf.clear().limit(9);
    buf.put(0, ACK).putLong(1, count);
    return buf;
  }

  /**
   * Messages per streaming call or batch: about 4 MiB of payload, at least 16 and at most 16384
   * messages, so each call is long against its start-up yet short against the measured window.
   */
  static int messagesPerCall(int size) {
    return messagesPerCall(size, 1);
  }

  /**
   * Messages per streaming call with {@code concurrency} calls in flight: the 4 MiB of {@link
   * #messagesPerCall(int)} shared among them (still at least 16 each). What is in flight when a
   * window ends must drain before the next scenario starts; with 64 calls of 16384 small messages
   * that took 10 to 20 s per scenario, for no better figure (a call's start-up stays under 1% of
   * its messages' time).
   */
  static int messagesPerCall(int size, int concurrency) {
    return (int) Math.max(16, Math.min(16_384, (4L << 20) / size) / Math.max(1, concurrency));
  }
}
