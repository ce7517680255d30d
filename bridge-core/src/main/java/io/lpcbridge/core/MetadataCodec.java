package io.lpcbridge.core;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import io.grpc.Metadata;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Metadata on the wire: the cold tail of CALL_START, HEADERS and TRAILERS frames, encoded as the
 * protobuf message below (so it can grow fields without a protocol version).
 *
 * <pre>
 * message WireMetadata {
 *   repeated Entry entries = 1;
 *   string authority = 2;              // CALL_START only
 *   message Entry { string key = 1; bytes value = 2; }
 * }
 * </pre>
 *
 * Keys ending in {@code -bin} carry raw bytes; other values are the ASCII text. Empty metadata
 * encodes to zero bytes, so a call without metadata pays nothing for it.
 */
final class MetadataCodec {
  static final int ENTRIES = 1;
  static final int AUTHORITY = 2;
  static final int ENTRY_KEY = 1;
  static final int ENTRY_VALUE = 2;
  /** Field 2, length-delimited: (2 << 3) | 2. */
  private static final byte AUTHORITY_TAG = (AUTHORITY << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;

  /** Limit on decoded metadata, as gRPC's default max header list size. */
  static final int MAX_METADATA_BYTES = 8192 * 4;

  private MetadataCodec() {}

  /** Metadata decoded from a frame, plus the optional authority. */
  record Decoded(Metadata metadata, String authority) {}

  static void encode(Metadata md, String authority, OutputStream out) {
    try {
      Set<String> keys = md == null ? Set.of() : md.keys();
      // The usual call has no entries: no protobuf encoder (and its buffer) is made for it.
      if (!keys.isEmpty()) {
        CodedOutputStream cos = CodedOutputStream.newInstance(out, 256);
        for (String key : keys) {
          if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
            Iterable<byte[]> values = md.getAll(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER));
            if (values != null) {
              for (byte[] v : values) {
                writeEntry(cos, key, v);
              }
            }
          } else {
            Iterable<String> values = md.getAll(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER));
            if (values != null) {
              for (String v : values) {
                writeEntry(cos, key, v.getBytes(StandardCharsets.US_ASCII));
              }
            }
          }
        }
        cos.flush();
      }
      if (authority != null && !authority.isEmpty()) {
        // Field 2 as protobuf writes a string: tag, varint length, UTF-8 bytes.
        byte[] a = StringCache.utf8(authority);
        out.write(AUTHORITY_TAG);
        for (int n = a.length; ; n >>>= 7) {
          if ((n & ~0x7F) == 0) {
            out.write(n);
            break;
          }
          out.write((n & 0x7F) | 0x80);
        }
        out.write(a);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot happen: writing to memory", e);
    }
  }

  private static void writeEntry(CodedOutputStream cos, String key, byte[] value) throws IOException {
    int keyLen = CodedOutputStream.computeStringSize(ENTRY_KEY, key);
    int valueLen = CodedOutputStream.computeByteArraySize(ENTRY_VALUE, value);
    cos.writeTag(ENTRIES, WireFormat.WIRETYPE_LENGTH_DELIMITED);
    cos.writeUInt32NoTag(keyLen + valueLen);
    cos.writeString(ENTRY_KEY, key);
    cos.writeByteArray(ENTRY_VALUE, value);
  }

  /**
   * Decodes metadata. Reserved keys (pseudo-headers, and those gRPC itself sets) are dropped as
   * gRPC drops them.
   *
   * @throws ProtocolException naming what is malformed
   */
  static Decoded decode(ByteBuffer bytes) throws ProtocolException {
    return decode(bytes, null);
  }

  /**
   * As {@link #decode(ByteBuffer)}; a CALL_START's tail that is the authority alone (a call
   * without metadata: the usual case) takes its string from {@code strings}, if given.
   */
  static Decoded decode(ByteBuffer bytes, StringCache strings) throws ProtocolException {
    Metadata md = new Metadata();
    if (!bytes.hasRemaining()) {
      return new Decoded(md, null);
    }
    if (bytes.remaining() > MAX_METADATA_BYTES) {
      throw new ProtocolException(
          GoAwayCodes.PROTOCOL_ERROR, "metadata of " + bytes.remaining() + " bytes exceeds the limit " + MAX_METADATA_BYTES);
    }
    if (strings != null) {
      String authority = authorityAlone(bytes, strings);
      if (authority != null) {
        return new Decoded(md, authority);
      }
    }
    String authority = null;
    try {
      CodedInputStream in = CodedInputStream.newInstance(bytes);
      int tag;
      while ((tag = in.readTag()) != 0) {
        switch (WireFormat.getTagFieldNumber(tag)) {
          case ENTRIES -> {
            int limit = in.pushLimit(in.readRawVarint32());
            String key = null;
            byte[] value = new byte[0];
            int t;
            while ((t = in.readTag()) != 0) {
              switch (WireFormat.getTagFieldNumber(t)) {
                case ENTRY_KEY -> key = in.readStringRequireUtf8();
                case ENTRY_VALUE -> value = in.readByteArray();
                default -> in.skipField(t);
              }
            }
            in.popLimit(limit);
            if (key == null) {
              throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "metadata entry without a key");
            }
            put(md, key, value);
          }
          case AUTHORITY -> authority = in.readStringRequireUtf8();
          default -> in.skipField(tag);
        }
      }
    } catch (IOException e) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "malformed metadata: " + e.getMessage());
    }
    return new Decoded(md, authority);
  }

  /**
   * The authority if {@code bytes} is exactly field 2 with a one-byte length (a string under 128
   * bytes) and nothing else; null otherwise, and for bytes that are not UTF-8 (the general
   * decoder then reports them).
   */
  private static String authorityAlone(ByteBuffer bytes, StringCache strings) {
    int at = bytes.position();
    int n = bytes.remaining();
    if (n < 2 || bytes.get(at) != AUTHORITY_TAG) {
      return null;
    }
    int length = bytes.get(at + 1);
    if (length < 0 || length != n - 2) {
      return null; // a longer varint, or more fields after it
    }
    try {
      return strings.decode(bytes, at + 2, length);
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }

  private static void put(Metadata md, String key, byte[] value) throws ProtocolException {
    if (key.startsWith(":") || key.equals("grpc-status") || key.equals("grpc-message") || key.equals("grpc-timeout")
        || key.equals("content-type") || key.equals("te")) {
      return;
    }
    try {
      if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
        md.put(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER), value);
      } else {
        md.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), new String(value, StandardCharsets.US_ASCII));
      }
    } catch (IllegalArgumentException e) {
      throw new ProtocolException(GoAwayCodes.PROTOCOL_ERROR, "invalid metadata key '" + key + "': " + e.getMessage());
    }
  }
}
