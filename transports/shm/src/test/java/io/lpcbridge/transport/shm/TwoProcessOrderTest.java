package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.PeerProcess;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Ten million messages of mixed sizes ({@link MixedMessages}) from a child process to this one,
 * through a 64 KiB ring, so that the ring wraps, fills (backpressure) and fragments all the time,
 * with the default idle strategy, whose sleeps and wake-ups race throughout. Every message is
 * checked in place, in the ring: order, length and every byte.
 */
class TwoProcessOrderTest {
  private static final long COUNT = 10_000_000;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void tenMillionMixedMessagesArriveInOrderAndIntact() throws Exception {
    String name = "order-" + ProcessHandle.current().pid();
    CompletableFuture<Connection> accepted = new CompletableFuture<>();
    CompletableFuture<Throwable> closed = new CompletableFuture<>();
    long[] next = {0};
    long[] bytes = {0};
    try (Listener listener = Transports.listen(Target.parse("shm://" + name), TransportOptions.defaults())) {
      listener.start(
          c -> {
            c.start(
                new MessageHandler() {
                  @Override
                  public void onMessage(ByteBuffer m) {
                    bytes[0] += m.remaining();
                    MixedMessages.verify(next[0], m);
                    next[0]++;
                  }

                  @Override
                  public void onClosed(Throwable cause) {
                    closed.complete(cause);
                  }
                });
            accepted.complete(c);
          });
      long start = System.nanoTime();
      try (PeerProcess peer =
          PeerProcess.start(ShmTestPeer.class, "flood", "shm://" + name, Long.toString(COUNT), "ringSize=64k",
              "writeHighWaterMark=256k", "linger=30s")) {
        Connection c = accepted.get(30, TimeUnit.SECONDS);
        Throwable cause = closed.get(110, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.err.printf("TwoProcessOrderTest: %,d messages, %,d bytes in %.1f s (%,.0f messages/s) over %s%n",
            next[0], bytes[0], seconds, next[0] / seconds, c.remoteAddress());
        assertNull(cause, "the sender closed in order after its last message; the receiver saw " + next[0]);
        assertEquals(COUNT, next[0], "messages received");
        assertEquals("" + COUNT, peer.awaitLine("DONE", Duration.ofSeconds(10)));
        assertEquals(0, ((ShmConnection) c).lateWakeups(), "sleeps that ended by timeout with work waiting");
      }
    }
  }
}
