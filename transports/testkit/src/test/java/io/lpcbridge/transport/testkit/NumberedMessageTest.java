package io.lpcbridge.transport.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The suite's own checks must catch what they claim to catch. */
class NumberedMessageTest {

  private static byte[] bytes(ByteBuffer b) {
    byte[] a = new byte[b.remaining()];
    b.get(a);
    return a;
  }

  @Test
  void roundTrips() {
    for (int size : new int[] {0, 1, 100, 4096}) {
      NumberedMessage.Header h = NumberedMessage.decode(bytes(NumberedMessage.encode(7, 1234567890123L, size)));
      assertEquals(new NumberedMessage.Header(7, 1234567890123L, size), h);
    }
  }

  @Test
  void detectsCorruptionTruncationAndInterleaving() {
    byte[] m = bytes(NumberedMessage.encode(1, 2, 64));
    byte[] flipped = m.clone();
    flipped[NumberedMessage.OVERHEAD + 3] ^= 1;
    assertTrue(assertThrows(AssertionError.class, () -> NumberedMessage.decode(flipped)).getMessage().contains("checksum"));

    byte[] truncated = Arrays.copyOf(m, m.length - 1);
    assertTrue(assertThrows(AssertionError.class, () -> NumberedMessage.decode(truncated)).getMessage().contains("truncated"));

    byte[] other = bytes(NumberedMessage.encode(2, 2, 64));
    byte[] spliced = m.clone();
    System.arraycopy(other, 40, spliced, 40, 20);
    assertThrows(AssertionError.class, () -> NumberedMessage.decode(spliced));

    assertThrows(AssertionError.class, () -> NumberedMessage.decode(new byte[3]));
  }

  @Test
  void patternsOfDifferentSizesDiffer() {
    byte[] a = NumberedMessage.pattern(65536);
    byte[] b = NumberedMessage.pattern(65537);
    assertTrue(Arrays.mismatch(a, b) >= 0 && Arrays.mismatch(a, b) < 65536);
  }
}
