package io.lpcbridge.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The tcp wire format seen from a raw socket: frames as documented, and a peer that breaks the
 * framing fails only its own connection, with a message that says what happened.
 */
@Timeout(30)
class TcpFramingTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final int MAX = TransportOptions.DEFAULT_MAX_MESSAGE_SIZE;

  private TestServer server;
  private Connection healthy;
  private RecordingHandler healthyHandler;

  @BeforeEach
  void setUp() throws Exception {
    server = new TestServer(Transports.listen(Target.parse("tcp://127.0.0.1:0"), TransportOptions.defaults()), RecordingHandler::echoing);
    healthyHandler = new RecordingHandler();
    healthy = Transports.connect(server.target(), TransportOptions.defaults());
    healthy.start(healthyHandler);
    server.awaitAccepted(TIMEOUT);
  }

  @AfterEach
  void tearDown() {
    healthy.close();
    server.close();
  }

  @Test
  void framesAreALengthPrefixThenThePayload() throws Exception {
    try (Socket raw = rawSocket()) {
      TestServer.Accepted a = server.awaitAccepted(TIMEOUT);
      OutputStream out = raw.getOutputStream();
      out.write(new byte[] {0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0});
      out.flush();
      assertArrayEquals(bytes("abc"), a.handler().take(TIMEOUT));
      assertArrayEquals(new byte[0], a.handler().take(TIMEOUT));

      DataInputStream in = new DataInputStream(raw.getInputStream());
      assertEquals(3, in.readInt(), "echo length prefix");
      byte[] echo = new byte[3];
      in.readFully(echo);
      assertArrayEquals(bytes("abc"), echo);
      assertEquals(0, in.readInt(), "empty message: a zero length and no payload");
    }
  }

  @Test
  void hugeLengthPrefixFailsOnlyThatConnectionNamingBothSizes() throws Exception {
    assertBrokenFramingFails(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}, 2147483647L);
  }

  @Test
  void lengthWithTheHighBitSetIsReadUnsigned() throws Exception {
    assertBrokenFramingFails(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff}, 4294967295L);
  }

  @Test
  void httpRequestIsRejectedAsGarbage() throws Exception {
    // "GET " read as a big-endian length is 0x47455420.
    assertBrokenFramingFails("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII), 0x47455420L);
  }

  @Test
  void lengthOfExactlyMaxMessageSizeIsAccepted() throws Exception {
    try (Socket raw = rawSocket()) {
      TestServer.Accepted a = server.awaitAccepted(TIMEOUT);
      OutputStream out = raw.getOutputStream();
      out.write(ByteBuffer.allocate(4).putInt(MAX).array());
      out.write(new byte[MAX]);
      out.flush();
      assertEquals(MAX, a.handler().take(TIMEOUT).length);
      assertTrue(a.connection().isOpen());
    }
  }

  @Test
  void peerVanishingMidFrameIsReportedAsTruncation() throws Exception {
    TestServer.Accepted a;
    try (Socket raw = rawSocket()) {
      a = server.awaitAccepted(TIMEOUT);
      raw.getOutputStream().write(new byte[] {0, 0, 0, 10, 1, 2, 3});
      raw.shutdownOutput();
      Throwable cause = a.handler().awaitClosed(TIMEOUT);
      assertInstanceOf(EOFException.class, cause);
      assertEquals(
          "peer closed the connection in the middle of a frame (7 bytes of it received)", cause.getMessage());
    }
    assertStillServing();
  }

  private void assertBrokenFramingFails(byte[] bytes, long announced) throws Exception {
    try (Socket raw = rawSocket()) {
      TestServer.Accepted a = server.awaitAccepted(TIMEOUT);
      raw.getOutputStream().write(bytes);
      raw.getOutputStream().flush();
      Throwable cause = a.handler().awaitClosed(TIMEOUT);
      assertInstanceOf(ProtocolException.class, cause);
      assertEquals(
          "frame length " + announced + " exceeds maxMessageSize " + MAX
              + " (set the transport option maxMessageSize to raise it)",
          cause.getMessage());
      assertEquals(0, a.handler().receivedCount(), "nothing delivered from a broken stream");
      assertEndOfStream(raw.getInputStream());
      a.handler().assertContractKept();
    }
    assertStillServing();
  }

  /** The healthy connection made before, and a new one, still echo. */
  private void assertStillServing() throws Exception {
    byte[] ping = bytes("ping");
    assertTrue(healthy.send(ByteBuffer.wrap(ping)));
    assertArrayEquals(ping, healthyHandler.take(TIMEOUT));

    RecordingHandler h = new RecordingHandler();
    Connection c = Transports.connect(server.target(), TransportOptions.defaults());
    try {
      c.start(h);
      assertTrue(c.send(ByteBuffer.wrap(ping)));
      assertArrayEquals(ping, h.take(TIMEOUT));
    } finally {
      c.close();
    }
  }

  private static void assertEndOfStream(InputStream in) {
    try {
      assertEquals(-1, in.read(), "the server closes a connection whose framing broke");
    } catch (IOException e) {
      // A reset is also an end.
    }
  }

  private Socket rawSocket() throws IOException {
    Target.HostPort hp = server.target().hostPort(-1);
    Socket s = new Socket(hp.host(), hp.port());
    s.setSoTimeout((int) TIMEOUT.toMillis());
    return s;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
