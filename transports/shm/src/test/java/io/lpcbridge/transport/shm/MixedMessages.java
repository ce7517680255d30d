package io.lpcbridge.transport.shm;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;

/**
 * A deterministic stream of self-describing messages of mixed sizes for the long two-process
 * tests: message {@code seq} is its sequence number (8 bytes, big-endian) followed by a slice of a
 * fixed random pattern chosen by {@code seq}. Sender and receiver compute sizes and contents alike,
 * so the receiver checks order, length and every byte with vectorized compares.
 *
 * <p>Sizes: 90% 8-64 bytes, 9% up to 2 KiB, about 1% up to 16 KiB, and one in 10 000 of 40-200 KB,
 * more than a record of a 64 KiB ring holds, so it is fragmented.
 */
final class MixedMessages {
  static final int MAX_SIZE = 200_000;
  private static final byte[] PATTERN = pattern(1 << 20);
  private static final ByteBuffer PATTERN_BUFFER = ByteBuffer.wrap(PATTERN).asReadOnlyBuffer();

  private MixedMessages() {}

  private static byte[] pattern(int n) {
    byte[] b = new byte[n];
    new SplittableRandom(42).nextBytes(b);
    return b;
  }

  private static long mix(long seq) {
    long z = seq * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  static int size(long seq) {
    long h = mix(seq);
    int bucket = (int) Long.remainderUnsigned(h, 10_000);
    int r = (int) ((h >>> 24) & 0x3FFF_FFFF);
    if (bucket < 9_000) {
      return 8 + r % 57;
    } else if (bucket < 9_900) {
      return 64 + r % 1_985;
    } else if (bucket < 9_999) {
      return 2_048 + r % 14_337;
    }
    return 40_000 + r % (MAX_SIZE - 40_000 + 1);
  }

  private static int patternOffset(long seq) {
    return (int) Long.remainderUnsigned(mix(~seq), PATTERN.length - MAX_SIZE);
  }

  /** Message {@code seq}, written into {@code buffer} (capacity at least {@link #MAX_SIZE}); flipped. */
  static ByteBuffer encode(long seq, ByteBuffer buffer) {
    int size = size(seq);
    buffer.clear().putLong(seq).put(PATTERN, patternOffset(seq), size - Long.BYTES);
    return buffer.flip();
  }

  /**
   * Checks that {@code m} (position to limit, left as it was) is message {@code seq}.
   *
   * @throws AssertionError naming what differs
   */
  static void verify(long seq, ByteBuffer m) {
    int size = size(seq);
    int at = m.position();
    if (m.remaining() != size) {
      throw new AssertionError("message " + seq + " has " + m.remaining() + " bytes, expected " + size
          + (m.remaining() >= 8 ? " (it says it is message " + m.getLong(at) + ")" : ""));
    }
    long got = m.getLong(at);
    if (got != seq) {
      throw new AssertionError("expected message " + seq + ", got message " + got + ": out of order, lost or duplicated");
    }
    int off = patternOffset(seq);
    int mismatch = m.slice(at + Long.BYTES, size - Long.BYTES).mismatch(PATTERN_BUFFER.slice(off, size - Long.BYTES));
    if (mismatch >= 0) {
      throw new AssertionError("message " + seq + " (" + size + " bytes) differs at byte " + (mismatch + Long.BYTES));
    }
  }
}
