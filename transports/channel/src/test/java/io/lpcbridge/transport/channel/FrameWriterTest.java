package io.lpcbridge.transport.channel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * What a channel does not take is queued and written later, byte for byte: large messages cut at
 * every kind of point (none written, inside the header, inside the payload), with queued copies in
 * chunks of at most {@link FrameWriter#COPY_CHUNK}.
 */
class FrameWriterTest {

  /** A channel that takes {@code budget} more bytes, then nothing until given more. */
  private static final class ThrottledIo implements StreamIo {
    final ByteArrayOutputStream written = new ByteArrayOutputStream();
    long budget;
    /** The messages as sent: written from directly, not copies. */
    final java.util.Set<byte[]> originals = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    /** The largest queued copy written. */
    int largestCopy;
    /** If set, the first write waits here: its sender holds the writer's lock meanwhile. */
    java.util.concurrent.CountDownLatch entered;
    java.util.concurrent.CountDownLatch release;

    @Override
    public int read(ByteBuffer dst) {
      return 0;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      if (entered != null) {
        entered.countDown();
        entered = null;
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      long total = 0;
      for (int i = offset; i < offset + length && budget > 0; i++) {
        ByteBuffer b = srcs[i];
        if (!b.isDirect() && !originals.contains(b.array())) {
          largestCopy = Math.max(largestCopy, b.capacity());
        }
        int n = (int) Math.min(b.remaining(), budget);
        byte[] bytes = new byte[n];
        b.get(bytes);
        written.writeBytes(bytes);
        budget -= n;
        total += n;
      }
      return total;
    }

    @Override
    public int await(boolean read, boolean write, long timeoutMillis) {
      return 0;
    }

    @Override
    public void wakeup() {}

    @Override
    public void shutdownOutput() {}

    @Override
    public void close() {}
  }

  @Test
  void largeMessagesCutAnywhereArriveWholeFromQueuedChunks() throws Exception {
    int size = 3 * FrameWriter.COPY_CHUNK + 12_345;
    for (long firstWrite : new long[] {0, 2, 4, 100, FrameWriter.COPY_CHUNK + 7}) {
      ThrottledIo io = new ThrottledIo();
      io.budget = firstWrite;
      FrameWriter w = new FrameWriter(io, Integer.MAX_VALUE, () -> {}, () -> {});
      byte[] first = FrameDecoderTest.payload(size, 1);
      byte[] second = FrameDecoderTest.payload(size / 2, 2);
      io.originals.add(first);
      io.originals.add(second);
      ByteBuffer m1 = ByteBuffer.wrap(first);
      assertTrue(w.send(m1));
      assertEquals(0, m1.position(), "the message's position is left as it was");
      assertTrue(w.send(ByteBuffer.wrap(second)));
      assertTrue(w.isBlocked() || firstWrite >= 4L + size, "cut at " + firstWrite);
      io.budget = Long.MAX_VALUE;
      w.flushFromReader();
      ByteArrayOutputStream expected = new ByteArrayOutputStream();
      expected.writeBytes(FrameDecoderTest.frame(first));
      expected.writeBytes(FrameDecoderTest.frame(second));
      assertArrayEquals(expected.toByteArray(), io.written.toByteArray(), "cut at " + firstWrite);
      assertEquals(0, w.queuedBytes());
      // What the channel did not take was queued, in chunks: never one copy of a whole large frame.
      assertEquals(FrameWriter.COPY_CHUNK, io.largestCopy, "cut at " + firstWrite);
    }
  }

  @Test
  void aLargeMessageFromASenderThatFindsTheLockTakenIsQueuedInChunksAndInOrder() throws Exception {
    ThrottledIo io = new ThrottledIo();
    io.budget = Long.MAX_VALUE;
    io.entered = new java.util.concurrent.CountDownLatch(1);
    io.release = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch entered = io.entered;
    FrameWriter w = new FrameWriter(io, Integer.MAX_VALUE, () -> {}, () -> {});
    byte[] first = FrameDecoderTest.payload(100, 1);
    byte[] second = FrameDecoderTest.payload(2 * FrameWriter.COPY_CHUNK + 3, 2);
    io.originals.add(first);
    io.originals.add(second);
    Thread holder = Thread.ofPlatform().start(() -> w.send(ByteBuffer.wrap(first)));
    assertTrue(entered.await(10, java.util.concurrent.TimeUnit.SECONDS));
    assertTrue(w.send(ByteBuffer.wrap(second)), "queued while the lock was taken");
    io.release.countDown();
    holder.join(10_000);
    w.flushFromReader();
    ByteArrayOutputStream expected = new ByteArrayOutputStream();
    expected.writeBytes(FrameDecoderTest.frame(first));
    expected.writeBytes(FrameDecoderTest.frame(second));
    assertArrayEquals(expected.toByteArray(), io.written.toByteArray());
    assertEquals(0, w.queuedBytes());
    assertEquals(FrameWriter.COPY_CHUNK, io.largestCopy, "the queued copy went out in chunks");
  }
}
