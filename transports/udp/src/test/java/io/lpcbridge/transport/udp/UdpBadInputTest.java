package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile and broken datagrams from a raw {@link java.net.DatagramSocket}: each is dropped and
 * counted under its reason, nothing is allocated for them, and the connections that were there
 * keep working. Counts are exact: a round trip on a real connection after the bad datagrams, through
 * the same server socket, proves they were all processed.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class UdpBadInputTest {

  /** The options every socket here starts from: the default engine; a subclass picks another. */
  protected TransportOptions base() {
    return TransportOptions.defaults();
  }
  private static final Duration TIMEOUT = Duration.ofSeconds(20);

  private TestServer server;
  private InetSocketAddress serverAddress;
  private Connection client;
  private RecordingHandler clientHandler;
  private TestServer.Accepted accepted;

  @BeforeEach
  void connect() throws Exception {
    server = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), base()),
        RecordingHandler::echoing);
    serverAddress = address(server.listener());
    clientHandler = new RecordingHandler();
    client = Transports.connect(server.target(), base());
    client.start(clientHandler);
    accepted = server.awaitAccepted(TIMEOUT);
    roundTrip("first");
  }

  @AfterEach
  void close() {
    client.close();
    server.close();
  }

  static InetSocketAddress address(Listener l) {
    return new InetSocketAddress("127.0.0.1", Integer.parseInt(l.localTarget().toString().replaceAll(".*:", "")));
  }

  private void roundTrip(String text) {
    byte[] m = text.getBytes(StandardCharsets.UTF_8);
    assertTrue(client.send(ByteBuffer.wrap(m)));
    assertArrayEquals(m, clientHandler.take(TIMEOUT), "the real client's echo");
  }

  private static UdpStats stats(Listener l) {
    return UdpTransportProvider.stats(l).orElseThrow();
  }

  private static long delta(UdpStats before, UdpStats after, Counter c) {
    return after.count(c) - before.count(c);
  }

  private static byte[] header(int magic, int version, int type, long dest, int totalLength) {
    ByteBuf b = Unpooled.buffer();
    b.writeShort(magic).writeByte(version).writeByte(type).writeLong(dest);
    b.writeZero(Math.max(0, totalLength - b.readableBytes()));
    return RawPeer.bytes(b);
  }

  @Test
  void garbageTruncatedAndUnknownDatagramsAreDroppedAndCountedAndTheConnectionSurvives() throws Exception {
    UdpStats before = stats(server.listener());
    long truncated = 0;
    long malformed = 0;
    try (RawPeer raw = new RawPeer(serverAddress)) {
      SplittableRandom r = new SplittableRandom(5);
      for (int i = 0; i < 300; i++) {
        byte[] g = new byte[r.nextInt(1500)];
        r.nextBytes(g);
        if (g.length > 0) {
          g[0] = 0; // never the magic by chance
        }
        raw.send(g);
        if (g.length < Wire.HEADER_LENGTH) {
          truncated++;
        } else {
          malformed++;
        }
      }
      byte[] init = RawPeer.init(77, 1200);
      for (int n = 0; n < Wire.HEADER_LENGTH; n++) {
        raw.send(Arrays.copyOf(init, n)); // every prefix of a header
        truncated++;
      }
      for (int n = Wire.HEADER_LENGTH; n < Wire.INIT_LENGTH; n++) {
        raw.send(Arrays.copyOf(init, n)); // every prefix of INIT's fixed part
        truncated++;
      }
      raw.send(Arrays.copyOf(init, 600)); // INIT not padded to its declared 1200 bytes: could amplify
      truncated++;
      raw.send(RawPeer.init(78, 100)); // a datagram size below the minimum
      malformed++;
      raw.send(header(Wire.MAGIC, Wire.VERSION, 99, 0, 64)); // unknown type
      raw.send(header(Wire.MAGIC, Wire.VERSION, Wire.TYPE_COOKIE, 0, Wire.COOKIE_LENGTH)); // only clients take COOKIE
      raw.send(header(Wire.MAGIC, 2, Wire.TYPE_INIT, 0, 1200)); // a version this side does not speak
      malformed += 3;
    }
    roundTrip("after the garbage");
    UdpStats after = stats(server.listener());
    assertEquals(truncated, delta(before, after, Counter.TRUNCATED_DROPPED), "truncated");
    assertEquals(malformed, delta(before, after, Counter.MALFORMED_DROPPED), "malformed");
    assertEquals(truncated + malformed, after.droppedInvalid() - before.droppedInvalid(), "all invalid drops");
    assertEquals(0, delta(before, after, Counter.COOKIES_SENT), "no cookie for a bad INIT");
    assertTrue(accepted.connection().isOpen());
  }

  @Test
  void spoofedConnectionIdsAndSpoofedSourcesAreDroppedAndCounted() throws Exception {
    long serverCid = ((UdpConnection) accepted.connection()).localCid();
    UdpStats before = stats(server.listener());
    try (RawPeer raw = new RawPeer(serverAddress)) {
      SplittableRandom r = new SplittableRandom(9);
      for (int i = 0; i < 100; i++) {
        raw.serverCid = r.nextLong();
        raw.send(raw.chunk(0, 0, new byte[10], 0, 10)); // a connection id nobody has
      }
      raw.serverCid = serverCid;
      for (int i = 0; i < 100; i++) {
        raw.send(raw.chunk(0, i, new byte[10], 0, 10)); // the real client's connection, from another address
      }
      ByteBuf reset = Unpooled.buffer();
      Packets.writeReason(reset, Wire.TYPE_RESET, serverCid, Wire.RESET_LOCAL_FAILURE, "forged");
      raw.send(RawPeer.bytes(reset));
    }
    roundTrip("after the spoofing");
    UdpStats after = stats(server.listener());
    assertEquals(100, delta(before, after, Counter.UNKNOWN_CONNECTION_DROPPED), "unknown connection ids");
    assertEquals(101, delta(before, after, Counter.WRONG_SOURCE_DROPPED), "right id, wrong source");
    // The echoing handler sends before it records: the echo can reach the client first (with
    // io=jdk the handler's thread writes it at once).
    long end = System.nanoTime() + TIMEOUT.toNanos();
    while (accepted.handler().receivedCount() < 2 && System.nanoTime() < end) {
      Thread.sleep(1);
    }
    assertEquals(2, accepted.handler().receivedCount(), "only the real client's two messages reached the server's handler");
    assertTrue(accepted.connection().isOpen(), "a forged RESET from another address closes nothing");
  }

  @Test
  void aPeersOwnTruncatedMalformedAndReplayedDatagramsAreDroppedAndItsConnectionSurvives() throws Exception {
    try (RawPeer raw = new RawPeer(serverAddress)) {
      byte[] accept = raw.handshake(0x1234_5678L);
      assertNotNull(accept, "no answer to the handshake");
      assertEquals(Wire.TYPE_ACCEPT, accept[Wire.TYPE_OFFSET] & 0xff, "ACCEPT");
      TestServer.Accepted s = server.awaitAccepted(TIMEOUT);
      byte[] hello = raw.chunk(0, 0, "hello".getBytes(StandardCharsets.UTF_8), 0, 5);
      raw.send(hello);
      assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), s.handler().take(TIMEOUT));
      UdpStats before = UdpTransportProvider.stats(s.connection()).orElseThrow();

      raw.send(Arrays.copyOf(hello, hello.length - 3)); // data cut short
      raw.send(Arrays.copyOf(hello, Wire.SESSION_HEADER_LENGTH + 7)); // cut inside the chunk header
      raw.send(Arrays.copyOf(hello, Wire.SESSION_HEADER_LENGTH - 1)); // cut inside the session header
      byte[] overrun = hello.clone(); // a chunk longer than the message it claims to be part of
      ByteBuffer.wrap(overrun).putInt(Wire.SESSION_HEADER_LENGTH + Wire.CHUNK_MESSAGE_LENGTH_OFFSET, 4);
      raw.send(overrun);
      raw.send(raw.chunk(1000, 1, new byte[3], 0, 3)); // acknowledges 1000 chunks the server never sent
      for (int i = 0; i < 5; i++) {
        raw.send(hello); // replayed
      }
      raw.send(raw.chunk(0, 10_000, new byte[3], 0, 3)); // far beyond the receive window
      ByteBuf reset = Unpooled.buffer();
      Packets.writeReason(reset, Wire.TYPE_RESET, raw.serverCid, 1, "cut");
      raw.send(Arrays.copyOf(RawPeer.bytes(reset), Wire.REASON_TEXT_OFFSET + 1)); // reason runs past the end

      raw.send(raw.chunk(0, 1, "again".getBytes(StandardCharsets.UTF_8), 0, 5));
      assertArrayEquals("again".getBytes(StandardCharsets.UTF_8), s.handler().take(TIMEOUT), "the next message, once");
      UdpStats after = UdpTransportProvider.stats(s.connection()).orElseThrow();
      assertEquals(4, delta(before, after, Counter.TRUNCATED_DROPPED), "truncated");
      assertEquals(1, delta(before, after, Counter.MALFORMED_DROPPED), "malformed");
      assertEquals(1, delta(before, after, Counter.INVALID_ACK_DROPPED), "acks of unsent data");
      assertEquals(5, delta(before, after, Counter.DUPLICATES_DROPPED), "replays");
      assertEquals(1, delta(before, after, Counter.OUT_OF_WINDOW_DROPPED), "beyond the window");
      assertEquals(2, s.handler().receivedCount(), "exactly the two real messages were delivered");
      assertTrue(s.connection().isOpen(), "the connection survived");
    }
  }

  @Test
  void aFloodOfInitsFromOneSourceAllocatesNothingAndIsNotAmplified() throws Exception {
    UdpStats before = stats(server.listener());
    long inits = 10_000;
    try (RawPeer raw = new RawPeer(serverAddress)) {
      for (long i = 1; i <= inits; i++) {
        raw.send(RawPeer.init(i, 1200));
        if (i % 500 == 0) {
          while (raw.receive(1) != null) {
            // drain the cookies so this socket's buffer does not overflow
          }
        }
      }
    }
    roundTrip("after the flood");
    UdpStats after = stats(server.listener());
    long cookies = delta(before, after, Counter.COOKIES_SENT);
    System.err.println("INIT flood: " + inits + " sent, " + cookies + " answered, listener " + after);
    assertTrue(cookies > 0, "the flood was answered");
    assertEquals(0, delta(before, after, Counter.CONNECTIONS_ACCEPTED), "no state for an INIT");
    assertEquals(1, connectionCount(), "only the real client has a connection");
    assertTrue(cookies * Wire.COOKIE_LENGTH * 20 < inits * 1200, "answers are a twentieth of the flood's bytes");
  }

  private int connectionCount() throws Exception {
    UdpListener l = (UdpListener) server.listener();
    return l.connectionCount();
  }

  @Test
  void completedHandshakesFromOneSourceAreCappedAndRepeatsAllocateNothing() throws Exception {
    TransportOptions capped = base().with(UdpSettings.MAX_CONNECTIONS_PER_HOST, 20);
    try (TestServer small = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), capped), c -> new RecordingHandler());
         RawPeer raw = new RawPeer(address(small.listener()))) {
      int accepts = 0;
      int refusals = 0;
      byte[] firstEcho = null;
      for (int i = 1; i <= 50; i++) {
        byte[] answer = raw.handshake(1000 + i);
        assertNotNull(answer, "handshake " + i + " got no answer");
        int type = answer[Wire.TYPE_OFFSET] & 0xff;
        if (type == Wire.TYPE_ACCEPT) {
          accepts++;
          firstEcho = firstEcho == null ? raw.lastEcho : firstEcho;
        } else {
          assertEquals(Wire.TYPE_REFUSE, type);
          String reason = Packets.reasonText(Unpooled.wrappedBuffer(answer));
          assertTrue(reason.contains("maxConnectionsPerHost"), reason);
          refusals++;
        }
      }
      assertEquals(20, accepts, "accepted up to maxConnectionsPerHost");
      assertEquals(30, refusals);
      UdpStats before = stats(small.listener());
      for (int i = 0; i < 10; i++) {
        raw.send(firstEcho); // the same COOKIE_ECHO again
        assertEquals(Wire.TYPE_ACCEPT, raw.receiveType(Wire.TYPE_ACCEPT, 2000)[Wire.TYPE_OFFSET] & 0xff);
      }
      UdpStats after = stats(small.listener());
      assertEquals(10, delta(before, after, Counter.HANDSHAKE_DUPLICATES));
      assertEquals(0, delta(before, after, Counter.CONNECTIONS_ACCEPTED), "a repeated COOKIE_ECHO allocates nothing");
      assertEquals(20, after.count(Counter.CONNECTIONS_ACCEPTED));
      assertEquals(30, after.count(Counter.CONNECTIONS_REFUSED));
    }
  }

  @Test
  void forgedMisaddressedAndReplayedCookiesAreDropped() throws Exception {
    TransportOptions quickLinger = base().with(TransportOptions.LINGER, "200ms");
    try (TestServer other = new TestServer(Transports.listen(Target.parse("udp://127.0.0.1:0"), quickLinger), c -> new RecordingHandler());
         RawPeer raw = new RawPeer(address(other.listener()));
         RawPeer thief = new RawPeer(address(other.listener()))) {
      byte[] cookie = raw.requestCookie(4242);
      assertEquals(Wire.TYPE_COOKIE, cookie[Wire.TYPE_OFFSET] & 0xff);
      byte[] echo = raw.echoFor(cookie);
      UdpStats before = stats(other.listener());
      byte[] forged = echo.clone();
      forged[Wire.COOKIE_MAC_OFFSET] ^= 1;
      raw.send(forged);
      thief.send(echo); // a valid cookie, from an address it was not minted for
      raw.send(echo);
      assertEquals(Wire.TYPE_ACCEPT, raw.receiveType(Wire.TYPE_ACCEPT, 2000)[Wire.TYPE_OFFSET] & 0xff);
      TestServer.Accepted s = other.awaitAccepted(TIMEOUT);
      s.connection().close(); // the raw peer never acknowledges the FIN: linger ends it
      s.handler().awaitClosed(TIMEOUT);
      raw.send(echo); // the cookie of a connection that has ended
      thief.send(RawPeer.init(1, 1200));
      assertNotNull(thief.receiveType(Wire.TYPE_COOKIE, 2000), "the listener still answers");
      UdpStats after = stats(other.listener());
      assertEquals(2, delta(before, after, Counter.COOKIE_INVALID_DROPPED), "forged MAC, wrong address");
      assertEquals(1, delta(before, after, Counter.COOKIE_REPLAYED_DROPPED), "replayed after the end");
      assertEquals(1, after.count(Counter.CONNECTIONS_ACCEPTED));
    }
  }
}
