package io.lpcbridge.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Orderly close against a raw peer: FIN after the last frame, and linger as the bound. */
@Timeout(30)
class TcpCloseTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  @Test
  void closeSendsEveryFrameThenFinAndWaitsForThePeersFin() throws Exception {
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      RecordingHandler h = new RecordingHandler();
      Connection c = Transports.connect(Target.parse("tcp://127.0.0.1:" + ss.getLocalPort()), TransportOptions.defaults());
      c.start(h);
      try (Socket raw = ss.accept()) {
        for (int i = 0; i < 100; i++) {
          c.send(ByteBuffer.allocate(4).putInt(0, i));
        }
        c.close();
        DataInputStream in = new DataInputStream(raw.getInputStream());
        for (int i = 0; i < 100; i++) {
          assertEquals(4, in.readInt());
          assertEquals(i, in.readInt());
        }
        assertEquals(-1, in.read(), "FIN after the last frame");
        assertFalse(h.isClosed(), "the closing side waits for the peer's FIN before onClosed");
        raw.shutdownOutput();
        h.awaitClosedInOrder(TIMEOUT);
      }
    }
  }

  @Test
  void lingerBoundsACloseToAPeerThatNeverReads() throws Exception {
    TransportOptions options = TransportOptions.defaults().with(TransportOptions.LINGER, "300ms");
    try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      RecordingHandler h = new RecordingHandler();
      Connection c = Transports.connect(Target.parse("tcp://127.0.0.1:" + ss.getLocalPort()), options);
      c.start(h);
      try (Socket raw = ss.accept()) {
        // More than the socket buffers on both sides hold, so the flush cannot finish.
        ByteBuffer chunk = ByteBuffer.allocate(1024 * 1024);
        for (int i = 0; i < 64; i++) {
          assertTrue(c.send(chunk));
        }
        c.close();
        Throwable cause = h.awaitClosed(TIMEOUT);
        assertNotNull(cause, "a close cut short by linger is not orderly");
        assertInstanceOf(IOException.class, cause);
        assertTrue(cause.getMessage().contains("linger"), cause.getMessage());
      }
    }
  }
}
