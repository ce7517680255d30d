package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every length and offset read from a datagram is checked before use: every prefix of every kind of
 * datagram is refused as truncated, and no mutation of a valid datagram makes a check or a session
 * throw.
 */
class PacketChecksTest {

  private static byte[] bytes(ByteBuf b) {
    return RawPeer.bytes(b);
  }

  private static List<byte[]> samples() {
    Packets.Params p = new Packets.Params(1200, 64, 1 << 20);
    ByteBuf cookie = Unpooled.buffer();
    Packets.writeCookie(cookie, Wire.TYPE_COOKIE, 5, 6, p, 123, new byte[16]);
    ByteBuf accept = Unpooled.buffer();
    Packets.writeAccept(accept, 5, 6);
    ByteBuf reset = Unpooled.buffer();
    Packets.writeReason(reset, Wire.TYPE_RESET, 5, 1, "a reason");
    ByteBuf session = Unpooled.buffer();
    Packets.writeHeader(session, Wire.TYPE_SESSION, 5);
    session.writeByte(0).writeByte(2).writeShort(0).writeLong(0).writeInt(64);
    session.writeInt(1).writeInt(2).writeInt(5).writeInt(1);
    session.writeLong(0).writeInt(30).writeInt(0).writeShort(10).writeByte(0).writeByte(0).writeZero(10);
    session.writeLong(1).writeInt(30).writeInt(10).writeShort(20).writeByte(0).writeByte(0).writeZero(20);
    return List.of(RawPeer.init(9, 1200), bytes(cookie), bytes(accept), bytes(reset), bytes(session));
  }

  private static Packets.Check check(byte[] d) {
    ByteBuf b = Unpooled.wrappedBuffer(d);
    Packets.Check c = Packets.checkHeader(b);
    if (c != Packets.Check.OK) {
      return c;
    }
    return switch (Packets.type(b)) {
      case Wire.TYPE_SESSION -> ReliableSession.checkSession(b);
      case Wire.TYPE_RESET, Wire.TYPE_REFUSE -> Packets.checkReason(b);
      default -> Packets.checkHandshake(b);
    };
  }

  @Test
  void theSamplesAreValid() {
    for (byte[] d : samples()) {
      assertEquals(Packets.Check.OK, check(d), "sample of type " + Wire.typeName(d[Wire.TYPE_OFFSET]));
    }
  }

  @Test
  void everyPrefixOfEveryDatagramIsTruncated() {
    for (byte[] d : samples()) {
      int type = d[Wire.TYPE_OFFSET];
      int whole = type == Wire.TYPE_INIT ? Wire.INIT_LENGTH : d.length;
      for (int n = 0; n < whole; n++) {
        Packets.Check c = check(Arrays.copyOf(d, n));
        int chunks = Wire.SESSION_HEADER_LENGTH + 2 * Wire.SACK_BLOCK_LENGTH;
        if (type == Wire.TYPE_SESSION && (n == chunks || n == chunks + Wire.CHUNK_HEADER_LENGTH + 10)) {
          assertEquals(Packets.Check.OK, c, "a session datagram cut exactly between chunks is valid, at " + n);
        } else {
          assertNotEquals(Packets.Check.OK, c, Wire.typeName(type) + " cut to " + n + " bytes");
        }
      }
    }
  }

  @Test
  void randomMutationsNeverThrowFromChecksOrFromALiveSession() {
    SplittableRandom r = new SplittableRandom(11);
    SimulatedLink link = new SimulatedLink();
    link.start();
    int checked = 0;
    for (int round = 0; round < 20_000; round++) {
      for (byte[] sample : samples()) {
        byte[] d = sample.clone();
        int flips = 1 + r.nextInt(4);
        for (int f = 0; f < flips; f++) {
          d[Wire.HEADER_LENGTH + r.nextInt(d.length - Wire.HEADER_LENGTH)] = (byte) r.nextInt();
        }
        if (r.nextBoolean()) {
          d = Arrays.copyOf(d, r.nextInt(d.length + 1));
        }
        check(d);
        if (d.length >= Wire.HEADER_LENGTH && (d[Wire.TYPE_OFFSET] == Wire.TYPE_SESSION || d[Wire.TYPE_OFFSET] == Wire.TYPE_RESET)) {
          link.b.session.onDatagram(Unpooled.wrappedBuffer(d), link.now); // must not throw
          checked++;
        }
      }
    }
    assertFalse(checked == 0);
  }
}
