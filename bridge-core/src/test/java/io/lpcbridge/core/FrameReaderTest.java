package io.lpcbridge.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FrameReaderTest {
  private record Frame(byte type, byte flags, int stream, int length) {}

  private static List<Frame> read(ByteBuffer b) throws ProtocolException {
    List<Frame> out = new ArrayList<>();
    FrameReader.read(b, (type, flags, stream, payload) -> out.add(new Frame(type, flags, stream, payload.remaining())));
    return out;
  }

  @Test
  void readsSeveralFramesFromOneMessage() throws Exception {
    FrameBuffer b = new FrameBuffer();
    b.frame(FrameHeader.HALF_CLOSE, (byte) 0, 3);
    b.beginFrame(FrameHeader.MESSAGE, FrameHeader.FLAG_END_STREAM, 7).put(new byte[300]).endFrame();
    b.beginFrame(FrameHeader.PING, (byte) 0, 0).putLong(42).endFrame();
    List<Frame> frames = read(b.contents());
    assertEquals(
        List.of(
            new Frame(FrameHeader.HALF_CLOSE, (byte) 0, 3, 0),
            new Frame(FrameHeader.MESSAGE, FrameHeader.FLAG_END_STREAM, 7, 300),
            new Frame(FrameHeader.PING, (byte) 0, 0, 8)),
        frames);
  }

  @Test
  void emptyMessageHasNoFrames() throws Exception {
    assertEquals(List.of(), read(ByteBuffer.allocate(0)));
  }

  @Test
  void truncatedHeaderIsRejected() {
    ProtocolException e = assertThrows(ProtocolException.class, () -> read(ByteBuffer.allocate(5)));
    assertEquals(GoAwayCodes.PROTOCOL_ERROR, e.code());
    assertTrue(e.getMessage().contains("truncated frame: 5 bytes left"), e.getMessage());
  }

  @Test
  void lengthPastTheMessageIsRejected() {
    FrameBuffer b = new FrameBuffer();
    b.beginFrame(FrameHeader.MESSAGE, (byte) 0, 1).put(new byte[10]).endFrame();
    ByteBuffer m = b.contents();
    m.putInt(FrameHeader.LENGTH_OFFSET, 11);
    ProtocolException e = assertThrows(ProtocolException.class, () -> read(m));
    assertTrue(e.getMessage().contains("payload length 11 but only 10 bytes follow"), e.getMessage());
  }

  @Test
  void hugeLengthIsRejectedWithoutAllocating() {
    FrameBuffer b = new FrameBuffer();
    b.frame(FrameHeader.MESSAGE, (byte) 0, 1);
    ByteBuffer m = b.contents();
    m.putInt(FrameHeader.LENGTH_OFFSET, 0xFFFFFFFF);
    ProtocolException e = assertThrows(ProtocolException.class, () -> read(m));
    assertTrue(e.getMessage().contains("payload length 4294967295"), e.getMessage());
  }

  @Test
  void unknownTypeIsRejected() {
    FrameBuffer b = new FrameBuffer();
    b.frame((byte) 0x2a, (byte) 0, 9);
    ProtocolException e = assertThrows(ProtocolException.class, () -> read(b.contents()));
    assertEquals("unknown frame type 0x2a on stream 9", e.getMessage());
  }

  @Test
  void framesBeforeABadOneAreDelivered() {
    FrameBuffer b = new FrameBuffer();
    b.frame(FrameHeader.HALF_CLOSE, (byte) 0, 1);
    b.frame((byte) 0x7f, (byte) 0, 1);
    List<Frame> seen = new ArrayList<>();
    assertThrows(
        ProtocolException.class,
        () -> FrameReader.read(b.contents(), (t, f, s, p) -> seen.add(new Frame(t, f, s, p.remaining()))));
    assertEquals(1, seen.size());
  }
}
