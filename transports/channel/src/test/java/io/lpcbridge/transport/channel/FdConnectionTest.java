package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.FrameDecoderTest.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.ProcFiles;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Stream connections over plain descriptors: two pipes, and one socket from socketpair(2). */
class FdConnectionTest {
  private static final TransportOptions OPTIONS = TransportOptions.defaults().with("maxMessageSize", "1m");

  private static void echoBothWays(Connection a, Connection b) throws Exception {
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
    int[] sizes = {0, 5, 1020, 70_000, 300_000, 7};
    for (int i = 0; i < sizes.length; i++) {
      // Heap and direct senders: the I/O writes one, gathers the other.
      ByteBuffer m = ByteBuffer.wrap(payload(sizes[i], i));
      assertTrue(a.send(i % 2 == 0 ? m : ByteBuffer.allocateDirect(m.remaining()).put(m).flip()));
    }
    List<byte[]> echoed = atA.awaitMessages(sizes.length);
    for (int i = 0; i < sizes.length; i++) {
      assertArrayEquals(payload(sizes[i], i), echoed.get(i), "message " + i);
    }
    a.close();
    assertNull(atB.awaitClosed(), "end of file between frames is an orderly close");
    assertNull(atA.awaitClosed());
    assertEquals(List.of(), atA.violations());
    assertEquals(List.of(), atB.violations());
  }

  @Test
  void overTwoPipes() throws Exception {
    int[] aToB = Fds.pipe(0);
    int[] bToA = Fds.pipe(0);
    Connection a = FdConnections.create(bToA[0], aToB[1], OPTIONS, "pipe", "a", "b", Set.of());
    Connection b = FdConnections.create(aToB[0], bToA[1], OPTIONS, "pipe", "b", "a", Set.of());
    echoBothWays(a, b);
  }

  @Test
  void theOutputPipeGetsTheBufferAskedForAndGivesItBackOnClose() throws Exception {
    long heldBefore = PipeBuffers.granted();
    int max = (int) ProcFiles.readLong(java.nio.file.Path.of("/proc/sys/fs/pipe-max-size"));
    int[] aToB = Fds.pipe(0);
    int[] bToA = Fds.pipe(0);
    int aOut = aToB[1];
    int bOut = bToA[1];
    Connection a = FdConnections.create(bToA[0], aOut, OPTIONS, "pipe", "a", "b", Set.of());
    Connection b = FdConnections.create(aToB[0], bOut, OPTIONS.with(PipeBuffers.OPTION, "0"), "pipe", "b", "a", Set.of());
    assertEquals(Math.min(PipeBuffers.DEFAULT_SIZE, max), Fds.pipeSize(aOut), "the default");
    assertEquals(64 * 1024, Fds.pipeSize(bOut), "pipeSize=0 keeps the kernel's size");
    assertEquals(heldBefore + Fds.pipeSize(aOut) - 64 * 1024, PipeBuffers.granted());
    echoBothWays(a, b);
    assertEquals(heldBefore, PipeBuffers.granted(), "given back on close");
  }

  @Test
  void overOneSocketPair() throws Exception {
    int[] s = Fds.socketPair();
    Connection a = FdConnections.create(s[0], s[0], OPTIONS, "socketpair", "a", "b", Set.of());
    Connection b = FdConnections.create(s[1], s[1], OPTIONS, "socketpair", "b", "a", Set.of());
    echoBothWays(a, b);
  }

  @Test
  void anOversizedLengthPrefixFailsTheConnection() throws Exception {
    int[] toA = Fds.pipe(0);
    int[] fromA = Fds.pipe(0);
    Connection a = FdConnections.create(toA[0], fromA[1], OPTIONS, "pipe", "a", "raw", Set.of());
    CheckingHandler atA = new CheckingHandler();
    a.start(atA);
    Fds.write(toA[1], ByteBuffer.allocate(4).putInt(0x7fffffff).flip());
    Throwable cause = atA.awaitClosed();
    assertInstanceOf(ProtocolException.class, cause);
    assertEquals("frame length 2147483647 exceeds maxMessageSize 1048576 (set the transport option maxMessageSize to raise it)", cause.getMessage());
    Fds.close(toA[1]);
    Fds.close(fromA[0]);
  }
}
