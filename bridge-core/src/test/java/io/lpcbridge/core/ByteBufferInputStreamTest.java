package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteBufferInputStreamTest {

  private static ByteBuffer direct(String s) {
    byte[] b = s.getBytes(StandardCharsets.US_ASCII);
    return ByteBuffer.allocateDirect(b.length).put(b).flip();
  }

  /** What a zero-copy marshaller sees: the bytes not yet read, in place, read-only, the position kept. */
  @Test
  void theByteBufferIsWhatIsLeftToReadAndReadingItMovesNothing() throws Exception {
    ByteBufferInputStream in = new ByteBufferInputStream(direct("hello"));
    assertTrue(in.byteBufferSupported());
    assertEquals('h', in.read());
    ByteBuffer view = in.getByteBuffer();
    assertEquals(4, view.remaining());
    assertEquals('e', view.get());
    assertThrows(ReadOnlyBufferException.class, () -> view.put(0, (byte) 'x'));
    assertEquals(4, in.available(), "the view's reads are its own");
    assertArrayEquals("ello".getBytes(StandardCharsets.US_ASCII), in.readAllBytes());
    assertNull(in.getByteBuffer(), "null at the end");
  }

  /**
   * A detached stream keeps the bytes after the transport has reused its memory (the shm ring
   * does, once the callback returns); the stream it came from is then empty.
   */
  @Test
  void aDetachedStreamOutlivesTheTransportsMemory() throws Exception {
    ByteBuffer ring = direct("xxpayload");
    ring.position(2);
    ByteBufferInputStream in = new ByteBufferInputStream(ring);
    assertEquals('p', in.read());
    InputStream kept = in.detach();
    ring.clear();
    while (ring.hasRemaining()) {
      ring.put((byte) '!');
    }
    assertEquals(0, in.available());
    assertEquals(-1, in.read());
    assertNull(in.getByteBuffer());
    assertEquals(6, kept.available());
    assertEquals("ayload", StandardCharsets.US_ASCII.decode(((ByteBufferInputStream) kept).getByteBuffer()).toString());
    assertArrayEquals("ayload".getBytes(StandardCharsets.US_ASCII), kept.readAllBytes());
  }
}
