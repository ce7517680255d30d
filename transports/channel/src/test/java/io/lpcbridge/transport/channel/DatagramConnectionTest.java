package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.FrameDecoderTest.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** The datagram engine over an in-memory channel: fragmentation, backpressure, close, errors. */
class DatagramConnectionTest {
  private static final int DATAGRAM = 64;
  private static final TransportOptions OPTIONS =
      TransportOptions.defaults().with("maxMessageSize", "4k").with("writeHighWaterMark", "1k").with("linger", "5s");

  private static Connection connection(MemoryDatagramIo io, Duration keepAlive, boolean awaitReady) {
    return DatagramConnections.create(
        io, OPTIONS, new DatagramConnections.Settings("test", "here", "there", Set.of(), keepAlive, awaitReady));
  }

  static List<Integer> sizes() {
    int fragment = DATAGRAM - Datagrams.HEADER_BYTES;
    return List.of(0, 1, fragment - 1, fragment, fragment + 1, 2 * fragment, 2 * fragment + 1, 4096);
  }

  @ParameterizedTest(name = "{0} bytes")
  @MethodSource("sizes")
  void messagesOfEverySizeCrossInOrderAndCloseIsOrderly(int size) throws Exception {
    MemoryDatagramIo[] io = MemoryDatagramIo.pair(4, DATAGRAM, false);
    Connection a = connection(io[0], Duration.ZERO, false);
    Connection b = connection(io[1], Duration.ZERO, false);
    CheckingHandler atA = new CheckingHandler();
    CheckingHandler atB =
        new CheckingHandler() {
          @Override
          void received(byte[] message) {
            b.send(ByteBuffer.wrap(message));
          }
        };
    a.start(atA);
    b.start(atB);
    for (int i = 0; i < 20; i++) {
      assertTrue(a.send(ByteBuffer.wrap(payload(size, i))));
    }
    List<byte[]> echoed = atA.awaitMessages(20);
    for (int i = 0; i < 20; i++) {
      assertArrayEquals(payload(size, i), echoed.get(i), "message " + i);
    }
    a.close();
    assertNull(atB.awaitClosed(), "BYE is an orderly close");
    assertNull(atA.awaitClosed());
    assertEquals(List.of(), atA.violations());
    assertEquals(List.of(), atB.violations());
  }

  @Test
  void aStalledReceiverTurnsTheSenderUnwritableAndCloseStillDeliversEverything() throws Exception {
    MemoryDatagramIo[] io = MemoryDatagramIo.pair(2, DATAGRAM, false);
    Connection a = connection(io[0], Duration.ZERO, false);
    Connection b = connection(io[1], Duration.ZERO, false);
    CountDownLatch release = new CountDownLatch(1);
    CheckingHandler atB =
        new CheckingHandler() {
          @Override
          void received(byte[] message) {
            try {
              release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    CheckingHandler atA = new CheckingHandler();
    a.start(atA);
    b.start(atB);
    int sent = 0;
    while (a.isWritable()) {
      assertTrue(a.send(ByteBuffer.wrap(payload(300, sent))));
      sent++;
      assertTrue(sent < 100, "still writable after " + sent + " messages to a stalled receiver");
    }
    a.close();
    release.countDown();
    assertNull(atB.awaitClosed());
    List<byte[]> got = atB.awaitMessages(sent);
    assertEquals(sent, got.size());
    for (int i = 0; i < sent; i++) {
      assertArrayEquals(payload(300, i), got.get(i));
    }
    assertNull(atA.awaitClosed());
  }

  @Test
  void aGatedServerSendsNothingBeforeReady() throws Exception {
    MemoryDatagramIo[] io = MemoryDatagramIo.pair(8, DATAGRAM, false);
    Connection server = connection(io[0], Duration.ZERO, true);
    CheckingHandler atServer = new CheckingHandler();
    server.start(atServer);
    assertTrue(server.send(ByteBuffer.wrap(payload(100, 1))));
    ByteBuffer probe = ByteBuffer.allocate(DATAGRAM + 1);
    Thread.sleep(50); // Only to give a wrongly ungated writer the chance to misbehave.
    assertEquals(-1, io[1].receive(probe), "nothing may leave before READY");
    io[0].inject(bytes(DatagramConnections.readyDatagram()));
    Connection client = connection(io[1], Duration.ZERO, false);
    CheckingHandler atClient = new CheckingHandler();
    client.start(atClient);
    assertArrayEquals(payload(100, 1), atClient.awaitMessages(1).get(0));
    client.close();
    assertNull(atServer.awaitClosed());
  }

  @Test
  void aDeadPeerIsFoundByTheChannelOrByTheKeepAliveProbe() throws Exception {
    for (boolean probeOnly : new boolean[] {false, true}) {
      MemoryDatagramIo[] io = MemoryDatagramIo.pair(8, DATAGRAM, probeOnly);
      Connection a = connection(io[0], probeOnly ? Duration.ofMillis(50) : Duration.ZERO, false);
      CheckingHandler atA = new CheckingHandler();
      a.start(atA);
      io[1].die();
      Throwable cause = atA.awaitClosed();
      assertTrue(cause != null && cause.getMessage().contains(probeOnly ? "peer gone (test)" : "the test peer died"), String.valueOf(cause));
      assertFalse(a.isOpen());
    }
  }

  static List<Object[]> garbage() {
    return List.of(
        new Object[] {new byte[] {1, 3, 0, 0}, "shorter than the 8-byte header"},
        new Object[] {header(9, 0, 0), "unknown type 9"},
        new Object[] {header(1, 3, 4097), "message length 4097 exceeds maxMessageSize 4096"},
        new Object[] {header(1, 3, -1), "message length 4294967295 exceeds maxMessageSize 4096"},
        new Object[] {header(1, 3, 5), "announces 5 bytes but carries 0"},
        new Object[] {header(1, 0, 0), "arrived with no message begun"},
        new Object[] {new byte[DATAGRAM + 1], "over the largest this connection uses"});
  }

  @ParameterizedTest(name = "{1}")
  @MethodSource("garbage")
  void garbageFailsTheConnectionWithAMessageNamingIt(byte[] datagram, String expected) throws Exception {
    MemoryDatagramIo[] io = MemoryDatagramIo.pair(8, DATAGRAM, false);
    Connection a = connection(io[0], Duration.ZERO, false);
    CheckingHandler atA = new CheckingHandler();
    a.start(atA);
    io[0].inject(datagram);
    Throwable cause = atA.awaitClosed();
    assertInstanceOf(ProtocolException.class, cause);
    assertTrue(cause.getMessage().contains(expected), cause.getMessage());
    ByteBuffer bye = ByteBuffer.allocate(DATAGRAM + 1);
    assertEquals(Datagrams.HEADER_BYTES, io[1].receive(bye), "the peer is told with BYE");
    assertEquals(Datagrams.BYE, bye.get(0));
  }

  @Test
  void fragmentsOutOfOrderOrMissingAreProtocolErrors() throws Exception {
    MemoryDatagramIo[] io = MemoryDatagramIo.pair(8, DATAGRAM, false);
    Connection a = connection(io[0], Duration.ZERO, false);
    CheckingHandler atA = new CheckingHandler();
    a.start(atA);
    byte[] first = new byte[DATAGRAM];
    System.arraycopy(header(1, 1, 200), 0, first, 0, 8);
    io[0].inject(first);
    byte[] wrongOffset = new byte[DATAGRAM];
    System.arraycopy(header(1, 0, 100), 0, wrongOffset, 0, 8);
    io[0].inject(wrongOffset);
    Throwable cause = atA.awaitClosed();
    assertEquals("a fragment at offset 100 arrived where offset 56 was due", cause.getMessage());
  }

  private static byte[] header(int type, int flags, int value) {
    return ByteBuffer.allocate(8).put((byte) type).put((byte) flags).putShort((short) 0).putInt(value).array();
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
