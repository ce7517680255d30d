package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StringCacheTest {
  private final StringCache cache = new StringCache();

  /** {@code text} in UTF-8 at offset 3 of a direct buffer, as a frame's payload would be. */
  private static ByteBuffer at3(byte[] bytes) {
    ByteBuffer b = ByteBuffer.allocateDirect(bytes.length + 5);
    b.position(3);
    b.put(bytes);
    return b.position(1);
  }

  @Test
  void aStringSeenAgainIsTheSameInstanceAndTheBufferIsNotMoved() throws Exception {
    byte[] bytes = "demo.v1.Echo/Say ✓".getBytes(StandardCharsets.UTF_8);
    ByteBuffer a = at3(bytes);
    String first = cache.decode(a, 3, bytes.length);
    assertEquals("demo.v1.Echo/Say ✓", first);
    assertEquals(1, a.position());
    assertSame(first, cache.decode(at3(bytes), 3, bytes.length));
  }

  @Test
  void manyDistinctStringsEachDecodeToThemselves() throws Exception {
    // More strings than slots: collisions replace entries, never return another string.
    for (int round = 0; round < 3; round++) {
      for (int i = 0; i < 200; i++) {
        byte[] bytes = ("svc/M" + i).getBytes(StandardCharsets.UTF_8);
        assertEquals("svc/M" + i, cache.decode(at3(bytes), 3, bytes.length));
      }
    }
    byte[] empty = new byte[0];
    assertEquals("", cache.decode(at3(empty), 3, 0));
  }

  @Test
  void invalidUtf8IsRefusedEveryTime() {
    byte[] bad = {'a', (byte) 0xc3, (byte) 0x28};
    assertThrows(CharacterCodingException.class, () -> cache.decode(at3(bad), 3, bad.length));
    assertThrows(CharacterCodingException.class, () -> cache.decode(at3(bad), 3, bad.length));
  }

  @Test
  void longStringsAreDecodedWithoutBeingKept() throws Exception {
    String text = "x".repeat(StringCache.MAX_CACHED_BYTES + 1);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    assertEquals(text, cache.decode(at3(bytes), 3, bytes.length));
  }

  @Test
  void anAuthorityAloneTakesTheFastPathAndDecodesAsTheGeneralOne() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MetadataCodec.encode(new Metadata(), "kv.example:443", out);
    byte[] encoded = out.toByteArray();
    MetadataCodec.Decoded fast = MetadataCodec.decode(ByteBuffer.wrap(encoded), cache);
    assertEquals("kv.example:443", fast.authority());
    assertTrue(fast.metadata().keys().isEmpty());
    assertSame(fast.authority(), MetadataCodec.decode(ByteBuffer.wrap(encoded), cache).authority());
    assertEquals(MetadataCodec.decode(ByteBuffer.wrap(encoded)).authority(), fast.authority());
    // Invalid UTF-8 in the authority: the general decoder reports it.
    byte[] bad = {0x12, 2, (byte) 0xc3, (byte) 0x28};
    ProtocolException e = assertThrows(ProtocolException.class, () -> MetadataCodec.decode(ByteBuffer.wrap(bad), cache));
    assertNotNull(e.getMessage());
    // With metadata after it, the general path: both parts decoded.
    Metadata md = new Metadata();
    md.put(Metadata.Key.of("x-trace", Metadata.ASCII_STRING_MARSHALLER), "t1");
    out.reset();
    MetadataCodec.encode(md, "kv.example:443", out);
    MetadataCodec.Decoded both = MetadataCodec.decode(ByteBuffer.wrap(out.toByteArray()), cache);
    assertEquals("kv.example:443", both.authority());
    assertEquals("t1", both.metadata().get(Metadata.Key.of("x-trace", Metadata.ASCII_STRING_MARSHALLER)));
    assertNull(MetadataCodec.decode(ByteBuffer.allocate(0), cache).authority());
  }

  @Test
  void encodingGivesEachStringsOwnBytesAndReusesThemForTheSameString() {
    String method = "demo.v1.Echo/Say ✓";
    byte[] first = StringCache.utf8(method);
    assertArrayEquals(method.getBytes(StandardCharsets.UTF_8), first);
    assertSame(first, StringCache.utf8(method));
    // An equal string that is another instance finds the same entry.
    assertSame(first, StringCache.utf8(new String(method.toCharArray())));
    // More strings than slots: a collision replaces the entry, never answers with another's bytes.
    for (int i = 0; i < 1000; i++) {
      String s = "pkg.Service/Method" + i;
      assertArrayEquals(s.getBytes(StandardCharsets.UTF_8), StringCache.utf8(s), s);
    }
    assertArrayEquals(method.getBytes(StandardCharsets.UTF_8), StringCache.utf8(method));
    String longName = "x".repeat(StringCache.MAX_CACHED_BYTES + 1);
    assertArrayEquals(longName.getBytes(StandardCharsets.UTF_8), StringCache.utf8(longName));
    assertNotSame(StringCache.utf8(longName), StringCache.utf8(longName), "long strings are encoded each time, not kept");
  }
}
