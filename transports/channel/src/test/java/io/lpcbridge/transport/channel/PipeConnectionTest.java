package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.FrameDecoderTest.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Connections over two JDK pipes, one per direction: the I/O reads one channel and writes another,
 * as a pipe or FIFO transport will, and an orderly close closes the write end.
 */
class PipeConnectionTest {

  private static Connection over(Pipe.SourceChannel in, Pipe.SinkChannel out) throws IOException {
    StreamIo io = new SelectorStreamIo(in, out, true);
    return new StreamConnection(
        io, TransportOptions.defaults(), 1024, "pipe", "here", "there", Set.of(), Optional.empty());
  }

  @Test
  void messagesCrossBothPipesAndCloseIsSeenAsEndOfStream() throws Exception {
    Pipe aToB = Pipe.open();
    Pipe bToA = Pipe.open();
    Connection a = over(bToA.source(), aToB.sink());
    Connection b = over(aToB.source(), bToA.sink());
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
    int[] sizes = {0, 5, 1020, 1021, 5000, 300_000, 7};
    for (int i = 0; i < sizes.length; i++) {
      assertTrue(a.send(ByteBuffer.wrap(payload(sizes[i], i))));
    }
    List<byte[]> echoed = atA.awaitMessages(sizes.length);
    for (int i = 0; i < sizes.length; i++) {
      assertArrayEquals(payload(sizes[i], i), echoed.get(i), "message " + i);
    }
    a.close();
    assertNull(atB.awaitClosed(), "b sees a's write end closed between frames");
    assertNull(atA.awaitClosed());
    assertEquals(List.of(), atA.violations());
    assertEquals(List.of(), atB.violations());
  }
}
