package io.lpcbridge.core;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes the strings a session sees again and again (method names, the authority) without a
 * decoder, a char buffer and a new String per call: a small direct-mapped cache from their UTF-8
 * bytes to the String decoded, strictly, the first time; and, process-wide, encodes them the other
 * way without a new array per call ({@link #utf8}).
 *
 * <p>Entries are immutable and replaced whole, so readers racing a writer see an old entry or a new
 * one, either of which is correct for the bytes it holds; no lock is needed.
 */
final class StringCache {
  /** Longer strings are decoded each time: rare, and not worth keeping. */
  static final int MAX_CACHED_BYTES = 256;

  private static final int SLOTS = 32;

  private record Entry(byte[] bytes, int hash, String value) {}

  private final Entry[] slots = new Entry[SLOTS];

  private record Encoded(String value, byte[] bytes) {}

  /** The encoding direction, shared by every session of the process (method names, authorities). */
  private static final Encoded[] ENCODED = new Encoded[SLOTS];

  /**
   * The UTF-8 bytes of {@code s}, from a small process-wide cache: a client sends the same method
   * names and authority on every call, and encoding them cost an array and a pass over the
   * characters each time. The array returned may be shared: callers read it and never change it.
   */
  static byte[] utf8(String s) {
    int hash = s.hashCode();
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    Encoded e = ENCODED[slot];
    if (e != null && (e.value == s || e.value.equals(s))) {
      return e.bytes;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    if (bytes.length <= MAX_CACHED_BYTES) {
      ENCODED[slot] = new Encoded(s, bytes);
    }
    return bytes;
  }

  /**
   * The string whose UTF-8 bytes are {@code length} bytes of {@code buf} at absolute {@code
   * offset}; the buffer's position is not changed.
   *
   * @throws CharacterCodingException if the bytes are not valid UTF-8
   */
  String decode(ByteBuffer buf, int offset, int length) throws CharacterCodingException {
    if (length > MAX_CACHED_BYTES) {
      return decodeStrictly(buf.slice(offset, length));
    }
    // One bulk read: byte by byte, a buffer over shared memory checks its bounds and its mapping
    // on every get, which cost more than the decoding saved.
    byte[] bytes = new byte[length];
    buf.get(offset, bytes);
    int hash = Arrays.hashCode(bytes); // vectorized by the JIT
    int slot = (hash ^ (hash >>> 16)) & (SLOTS - 1);
    Entry e = slots[slot];
    if (e != null && e.hash == hash && Arrays.equals(e.bytes, bytes)) {
      return e.value;
    }
    String value = decodeStrictly(ByteBuffer.wrap(bytes));
    slots[slot] = new Entry(bytes, hash, value);
    return value;
  }

  private static String decodeStrictly(ByteBuffer bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8
        .newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(bytes)
        .toString();
  }
}
