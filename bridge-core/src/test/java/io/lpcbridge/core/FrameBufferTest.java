package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Growth and reuse: one right-sized array per large message, kept while large messages go through
 * it; a stream of known length is asked for all of its bytes at once, into the buffer's array.
 */
class FrameBufferTest {
  @Test
  void aKnownLargeNeedGrowsOnceToThatWithRoomForWhatFollowsAndSmallWritesDouble() {
    FrameBuffer b = new FrameBuffer();
    b.put(new byte[100]);
    b.ensure(1_000_000);
    assertEquals(1_000_100 + FrameBuffer.TAIL_ROOM, b.capacity(), "what was asked and a little room, not the next power of two");
    b.put(new byte[1_000_000]);
    b.put(new byte[200]); // a stream's trailers after its message: no second, doubled array
    assertEquals(1_000_100 + FrameBuffer.TAIL_ROOM, b.capacity());
    FrameBuffer small = new FrameBuffer();
    small.put(new byte[300]);
    assertEquals(512, small.capacity(), "appending bit by bit doubles");
  }

  @Test
  void aLargeBufferIsKeptWhileFilledAndLetGoWhenMostlyEmpty() {
    FrameBuffer b = new FrameBuffer();
    b.ensure(1 << 20);
    int large = b.capacity();
    b.put(new byte[1 << 20]);
    b.clear();
    assertEquals(large, b.capacity(), "kept after a large message");
    b.put(new byte[1 << 20]);
    b.clear();
    assertEquals(large, b.capacity(), "and again");
    b.put(new byte[1000]);
    b.clear();
    assertTrue(b.capacity() <= FrameBuffer.LARGE, "let go after a small one: " + b.capacity());
    assertTrue(b.isEmpty());
  }

  /** A stream that says it holds {@code announced} bytes and records the reads asked of it. */
  private static final class Announced extends ByteArrayInputStream {
    final int announced;
    final List<Integer> asked = new ArrayList<>();

    Announced(byte[] bytes, int announced) {
      super(bytes);
      this.announced = announced;
    }

    @Override
    public synchronized int read(byte[] b, int off, int len) {
      asked.add(len);
      return super.read(b, off, len);
    }
  }

  private static byte[] contents(FrameBuffer b) {
    ByteBuffer c = b.contents();
    byte[] out = new byte[c.remaining()];
    c.get(out);
    return out;
  }

  private static byte[] counting(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) i;
    }
    return b;
  }

  @Test
  void aStreamOfKnownLengthIsAskedForAllItsBytesInOneRead() throws IOException {
    FrameBuffer b = new FrameBuffer();
    b.put(new byte[] {9});
    byte[] message = counting(3000);
    Announced in = new Announced(message, message.length);
    b.readFrom(in, in.announced);
    assertEquals(3000, in.asked.get(0), "the first read asks for the whole message");
    byte[] expected = new byte[3001];
    expected[0] = 9;
    System.arraycopy(message, 0, expected, 1, 3000);
    assertArrayEquals(expected, contents(b));
  }

  @Test
  void aStreamLongerOrShorterThanAnnouncedIsTakenWhole() throws IOException {
    FrameBuffer longer = new FrameBuffer();
    byte[] message = counting(5000);
    longer.readFrom(new Announced(message, 100), 100);
    assertArrayEquals(message, contents(longer));
    FrameBuffer shorter = new FrameBuffer();
    shorter.readFrom(new Announced(Arrays.copyOf(message, 40), 100), 100);
    assertArrayEquals(Arrays.copyOf(message, 40), contents(shorter));
    FrameBuffer empty = new FrameBuffer();
    empty.readFrom(new Announced(new byte[0], 0), 0);
    assertTrue(empty.isEmpty());
  }
}
