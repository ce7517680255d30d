package io.lpcbridge.transport.channel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The decoder stepped by hand: each {@code feed} is one read returning exactly those bytes. */
class FrameDecoderTest {
  private static final int MAX = 1024 * 1024;

  private final CheckingHandler handler = new CheckingHandler();

  @Test
  void manyFramesInOneReadAreAllDelivered() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 4096);
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    for (int i = 0; i < 100; i++) {
      stream.writeBytes(frame(payload(i, i)));
    }
    feed(decoder, stream.toByteArray());
    assertEquals(100, handler.messages.size());
    for (int i = 0; i < 100; i++) {
      assertArrayEquals(payload(i, i), handler.messages.get(i));
    }
    assertNull(decoder.endOfStream());
  }

  @Test
  void frameSplitByteByByteIsDeliveredOnceWhole() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 4096);
    byte[] bytes = concat(frame(payload(10, 1)), frame(payload(3, 2)));
    for (int i = 0; i < bytes.length; i++) {
      feed(decoder, new byte[] {bytes[i]});
      int expected = i + 1 >= 14 + 7 ? 2 : i + 1 >= 14 ? 1 : 0;
      assertEquals(expected, handler.messages.size(), "after byte " + i);
    }
    assertArrayEquals(payload(10, 1), handler.messages.get(0));
    assertArrayEquals(payload(3, 2), handler.messages.get(1));
  }

  @Test
  void readsEndingMidHeaderAndMidPayloadKeepTheRest() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    byte[] bytes = concat(frame(payload(20, 1)), frame(payload(30, 2)), frame(payload(5, 3)));
    // 24 + 34 + 9 = 67 bytes, cut at 26 (2 header bytes of frame 2) and 40 (mid payload 2).
    feed(decoder, slice(bytes, 0, 26));
    assertEquals(1, handler.messages.size());
    feed(decoder, slice(bytes, 26, 40));
    assertEquals(1, handler.messages.size());
    feed(decoder, slice(bytes, 40, bytes.length));
    assertEquals(3, handler.messages.size());
    assertArrayEquals(payload(30, 2), handler.messages.get(1));
    assertArrayEquals(payload(5, 3), handler.messages.get(2));
  }

  @Test
  void frameLargerThanTheReadBufferGrowsItThenShrinksBack() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    byte[] big = payload(10_000, 7);
    byte[] bytes = concat(frame(payload(8, 1)), frame(big), frame(payload(8, 2)));
    feed(decoder, slice(bytes, 0, 100));
    assertEquals(1, handler.messages.size());
    assertTrue(decoder.capacity() >= 10_004, "grown to hold the frame: " + decoder.capacity());
    feed(decoder, slice(bytes, 100, bytes.length));
    assertEquals(3, handler.messages.size());
    assertArrayEquals(big, handler.messages.get(1));
    assertEquals(64, decoder.capacity(), "back to the small buffer");
  }

  @Test
  void consecutiveLargeFramesReuseTheLargeBuffer() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    byte[] bytes = concat(frame(payload(5000, 1)), frame(payload(4000, 2)), frame(payload(1, 3)));
    feed(decoder, bytes);
    assertEquals(3, handler.messages.size());
    assertArrayEquals(payload(4000, 2), handler.messages.get(1));
    assertEquals(64, decoder.capacity());
  }

  @Test
  void largeFramesWithSmallOnesBetweenReuseOneArrayUntilSmallOnesRunLong() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    byte[] a = frame(payload(10_000, 1));
    feed(decoder, slice(a, 0, 100));
    ByteBuffer large = decoder.readBuffer();
    assertTrue(large.capacity() >= 10_004);
    byte[] b = frame(payload(9_000, 2));
    feed(decoder, concat(slice(a, 100, a.length), frame(payload(3, 3)), slice(b, 0, 100)));
    assertTrue(large == decoder.readBuffer(), "the next large frame went into the same array");
    feed(decoder, slice(b, 100, b.length));
    for (int i = 0; i < FrameDecoder.SPARE_KEPT_FOR + 1; i++) {
      feed(decoder, frame(payload(3, i)));
    }
    byte[] c = frame(payload(10_000, 4));
    feed(decoder, slice(c, 0, 100));
    assertTrue(large != decoder.readBuffer(), "after many small frames the spare was let go");
    feed(decoder, slice(c, 100, c.length));
    assertEquals(3 + FrameDecoder.SPARE_KEPT_FOR + 2, handler.messages.size());
    assertArrayEquals(payload(9_000, 2), handler.messages.get(2));
    assertArrayEquals(payload(10_000, 4), handler.messages.getLast());
  }

  @Test
  void zeroLengthMessagesAreMessages() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    feed(decoder, concat(frame(new byte[0]), frame(new byte[0]), frame(payload(1, 1))));
    assertEquals(List.of(0, 0, 1), handler.messages.stream().map(m -> m.length).toList());
  }

  @Test
  void deliveredMessagesAreSlicesStartingAtZero() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    ByteBuffer[] seen = new ByteBuffer[1];
    CheckingHandler peek =
        new CheckingHandler() {
          @Override
          public void onMessage(ByteBuffer message) {
            seen[0] = message;
            super.onMessage(message.duplicate());
          }
        };
    decoder.readBuffer().put(concat(frame(payload(3, 9)), frame(payload(5, 4))));
    decoder.deliver(peek);
    assertEquals(0, seen[0].position());
    assertEquals(5, seen[0].limit());
    assertTrue(seen[0].isDirect(), "a view of the read buffer, not a copy");
  }

  @Test
  void lengthOverMaxMessageSizeFailsNamingBothSizes() {
    FrameDecoder decoder = new FrameDecoder(1024, 64);
    ProtocolException e =
        assertThrows(ProtocolException.class, () -> feed(decoder, ByteBuffer.allocate(4).putInt(1025).array()));
    assertEquals(
        "frame length 1025 exceeds maxMessageSize 1024 (set the transport option maxMessageSize to raise it)",
        e.getMessage());
  }

  @Test
  void lengthWithTheTopBitSetIsReadUnsigned() {
    FrameDecoder decoder = new FrameDecoder(1024, 64);
    ProtocolException e =
        assertThrows(ProtocolException.class, () -> feed(decoder, new byte[] {-1, -1, -1, -1, 0}));
    assertTrue(e.getMessage().startsWith("frame length 4294967295 exceeds maxMessageSize 1024"), e.getMessage());
  }

  @Test
  void lengthCheckedBeforeThePayloadArrives() {
    FrameDecoder decoder = new FrameDecoder(1024, 64);
    assertThrows(ProtocolException.class, () -> feed(decoder, new byte[] {0, 1, 0, 0}));
  }

  @Test
  void endOfStreamInTheMiddleOfAHeaderSaysHowMuchArrived() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    feed(decoder, concat(frame(payload(2, 1)), new byte[] {0, 0}));
    EOFException e = decoder.endOfStream();
    assertEquals("peer closed the connection in the middle of a frame header: 2 of 4 header bytes arrived", e.getMessage());
  }

  @Test
  void endOfStreamInTheMiddleOfAPayloadSaysHowMuchArrived() throws Exception {
    FrameDecoder decoder = new FrameDecoder(MAX, 64);
    feed(decoder, slice(frame(payload(100, 1)), 0, 4 + 37));
    EOFException e = decoder.endOfStream();
    assertEquals("peer closed the connection in the middle of a frame: 37 of 100 payload bytes arrived", e.getMessage());
  }

  /** Writes {@code bytes} as reads would, each no larger than the room the decoder offers. */
  private void feed(FrameDecoder decoder, byte[] bytes) throws ProtocolException {
    int offset = 0;
    while (offset < bytes.length) {
      ByteBuffer buffer = decoder.readBuffer();
      int n = Math.min(buffer.remaining(), bytes.length - offset);
      buffer.put(bytes, offset, n);
      offset += n;
      decoder.deliver(handler);
    }
  }

  static byte[] frame(byte[] payload) {
    return ByteBuffer.allocate(4 + payload.length).putInt(payload.length).put(payload).array();
  }

  static byte[] payload(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed * 31 + i);
    }
    return b;
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] slice(byte[] bytes, int from, int to) {
    return java.util.Arrays.copyOfRange(bytes, from, to);
  }
}
