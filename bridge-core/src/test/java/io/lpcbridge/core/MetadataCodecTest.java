package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Metadata;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetadataCodecTest {
  private static final Metadata.Key<String> ASCII = Metadata.Key.of("x-trace", Metadata.ASCII_STRING_MARSHALLER);
  private static final Metadata.Key<byte[]> BIN = Metadata.Key.of("x-blob-bin", Metadata.BINARY_BYTE_MARSHALLER);

  private static ByteBuffer encode(Metadata md, String authority) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    MetadataCodec.encode(md, authority, out);
    return ByteBuffer.wrap(out.toByteArray());
  }

  @Test
  void roundTripsAsciiBinaryRepeatedAndAuthority() throws Exception {
    Metadata md = new Metadata();
    md.put(ASCII, "a");
    md.put(ASCII, "b");
    md.put(BIN, new byte[] {0, (byte) 0xff, 10});
    MetadataCodec.Decoded d = MetadataCodec.decode(encode(md, "kv.local"));
    List<String> values = new java.util.ArrayList<>();
    d.metadata().getAll(ASCII).forEach(values::add);
    assertEquals(List.of("a", "b"), values);
    assertArrayEquals(new byte[] {0, (byte) 0xff, 10}, d.metadata().get(BIN));
    assertEquals("kv.local", d.authority());
  }

  @Test
  void emptyMetadataCostsNothing() throws Exception {
    assertEquals(0, encode(new Metadata(), null).remaining());
    MetadataCodec.Decoded d = MetadataCodec.decode(ByteBuffer.allocate(0));
    assertTrue(d.metadata().keys().isEmpty());
    assertNull(d.authority());
  }

  @Test
  void anAuthorityAloneIsEncodedAsProtobufWouldEncodeIt() throws Exception {
    for (String authority : List.of("localhost", "h".repeat(127), "h".repeat(128), "é".repeat(9000), "kv.local:7000")) {
      ByteArrayOutputStream reference = new ByteArrayOutputStream();
      com.google.protobuf.CodedOutputStream cos = com.google.protobuf.CodedOutputStream.newInstance(reference);
      cos.writeString(MetadataCodec.AUTHORITY, authority);
      cos.flush();
      ByteBuffer ours = encode(new Metadata(), authority);
      assertArrayEquals(reference.toByteArray(), Arrays.copyOfRange(ours.array(), 0, ours.remaining()), authority.length() + " chars");
      assertEquals(authority, MetadataCodec.decode(ours).authority());
    }
  }

  @Test
  void garbageIsAProtocolError() {
    ByteBuffer garbage = ByteBuffer.wrap(new byte[] {(byte) 0x0a, (byte) 0x7f, 1, 2});
    ProtocolException e = assertThrows(ProtocolException.class, () -> MetadataCodec.decode(garbage));
    assertTrue(e.getMessage().startsWith("malformed metadata"), e.getMessage());
  }

  @Test
  void invalidKeyIsAProtocolError() {
    // An entry whose key has an upper-case letter and a space: not a valid gRPC metadata key.
    FrameBuffer b = new FrameBuffer();
    byte[] key = "Bad Key".getBytes();
    b.putByte(0x0a).putByte(2 + key.length).putByte(0x0a).putByte(key.length).put(key);
    ProtocolException e = assertThrows(ProtocolException.class, () -> MetadataCodec.decode(b.contents()));
    assertTrue(e.getMessage().contains("invalid metadata key 'Bad Key'"), e.getMessage());
  }

  @Test
  void oversizedMetadataIsRejected() {
    ProtocolException e =
        assertThrows(ProtocolException.class, () -> MetadataCodec.decode(ByteBuffer.allocate(MetadataCodec.MAX_METADATA_BYTES + 1)));
    assertTrue(e.getMessage().contains("exceeds the limit"), e.getMessage());
  }
}
