package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Growth and reuse: one right-sized array per large message, kept while large messages go through it. */
class FrameBufferTest {
  @Test
  void aKnownLargeNeedGrowsOnceToExactlyThatAndSmallWritesDouble() {
    FrameBuffer b = new FrameBuffer();
    b.put(new byte[100]);
    b.ensure(1_000_000);
    assertEquals(1_000_100, b.capacity(), "exactly what was asked, not the next power of two");
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
}
