package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.FrameDecoderTest.frame;
import static io.lpcbridge.transport.channel.FrameDecoderTest.payload;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import io.lpcbridge.transport.TransportOptions;
import java.io.EOFException;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Connections over a real JDK unix-domain socket pair, once with the JDK's native gathering writes
 * and once with the staging-buffer writes used for other channel providers (junixsocket).
 */
class StreamConnectionTest {
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
  }

  private Connection connection(SocketChannel channel, boolean nativeGather, TransportOptions options)
      throws IOException {
    StreamIo io = new SelectorStreamIo(channel, channel, nativeGather);
    Connection c =
        new StreamConnection(io, options, 64 * 1024, "test", "local", "remote", Set.of(), Optional.empty());
    toClose.add(c::close);
    return c;
  }

  private Connection[] pair(boolean nativeGather, TransportOptions options) throws IOException {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    return new Connection[] {
      connection(sockets.a(), nativeGather, options), connection(sockets.b(), nativeGather, options)
    };
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void messagesOfEverySizeArriveWholeAndInOrder(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults().with("maxMessageSize", "2m"));
    CheckingHandler a = new CheckingHandler();
    CheckingHandler b = new CheckingHandler();
    c[0].start(a);
    c[1].start(b);
    int[] sizes = {0, 1, 63, 64, 65_532, 65_536, 200_000, 2 * 1024 * 1024, 5};
    for (int i = 0; i < sizes.length; i++) {
      ByteBuffer heap = ByteBuffer.wrap(payload(sizes[i], i));
      assertTrue(c[0].send(heap));
      assertEquals(0, heap.position(), "position left as it was");
      assertEquals(sizes[i], heap.limit(), "limit left as it was");
      ByteBuffer direct = ByteBuffer.allocateDirect(sizes[i] + 3).position(3);
      direct.put(payload(sizes[i], i + 100)).position(3);
      assertTrue(c[1].send(direct));
      assertEquals(3, direct.position());
    }
    List<byte[]> atB = b.awaitMessages(sizes.length);
    List<byte[]> atA = a.awaitMessages(sizes.length);
    for (int i = 0; i < sizes.length; i++) {
      assertArrayEquals(payload(sizes[i], i), atB.get(i), "message " + i + " a->b");
      assertArrayEquals(payload(sizes[i], i + 100), atA.get(i), "message " + i + " b->a");
    }
    assertEquals(List.of(), a.violations());
    assertEquals(List.of(), b.violations());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void tooLargeSendIsRefusedAndTheConnectionStaysUsable(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults().with("maxMessageSize", "4k"));
    CheckingHandler b = new CheckingHandler();
    c[0].start(new CheckingHandler());
    c[1].start(b);
    MessageTooLargeException e =
        assertThrows(MessageTooLargeException.class, () -> c[0].send(ByteBuffer.allocate(4097)));
    assertEquals(4097, e.size());
    assertEquals(4096, e.limit());
    assertTrue(c[0].send(ByteBuffer.allocate(4096)));
    assertEquals(4096, b.awaitMessages(1).get(0).length);
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void manyConcurrentSendersKeepEachSendersOrderAndNeverInterleave(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults().with("writeHighWaterMark", "64m"));
    int senders = 4;
    int perSender = 20_000;
    int[] next = new int[senders];
    List<String> errors = new ArrayList<>();
    CheckingHandler b =
        new CheckingHandler() {
          @Override
          public void onMessage(ByteBuffer m) {
            int sender = m.getInt();
            int seq = m.getInt();
            int length = m.getInt();
            boolean intact = m.remaining() == length;
            for (int i = 0; intact && i < length; i++) {
              intact = m.get() == (byte) (sender + seq + i);
            }
            synchronized (errors) {
              if (!intact) {
                errors.add("message " + sender + "/" + seq + " corrupt");
              }
              if (next[sender] != seq) {
                errors.add("sender " + sender + ": expected " + next[sender] + ", got " + seq);
              }
              next[sender] = seq + 1;
            }
            super.onMessage(ByteBuffer.allocate(0));
          }
        };
    c[0].start(new CheckingHandler());
    c[1].start(b);
    CountDownLatch go = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < senders; s++) {
      int sender = s;
      Thread t =
          new Thread(
              () -> {
                ByteBuffer m = ByteBuffer.allocate(12 + 300);
                try {
                  go.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int seq = 0; seq < perSender; seq++) {
                  int length = (seq * 7 + sender) % 300;
                  m.clear().putInt(sender).putInt(seq).putInt(length);
                  for (int i = 0; i < length; i++) {
                    m.put((byte) (sender + seq + i));
                  }
                  m.flip();
                  if (!c[0].send(m)) {
                    synchronized (errors) {
                      errors.add("send refused");
                    }
                  }
                }
              },
              "sender-" + s);
      t.start();
      threads.add(t);
    }
    go.countDown();
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(60));
    }
    b.awaitMessages(senders * perSender);
    synchronized (errors) {
      assertEquals(List.of(), errors.subList(0, Math.min(10, errors.size())));
    }
    assertEquals(List.of(), b.violations());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void aStalledReceiverTurnsTheSenderUnwritableThenOnWritableFollows(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults().with("writeHighWaterMark", "64k"));
    CountDownLatch release = new CountDownLatch(1);
    CheckingHandler a = new CheckingHandler();
    CountDownLatch writable = new CountDownLatch(1);
    CheckingHandler sender =
        new CheckingHandler() {
          @Override
          public void onWritable() {
            super.onWritable();
            writable.countDown();
          }
        };
    CheckingHandler stalled =
        new CheckingHandler() {
          @Override
          void received(byte[] message) {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    c[0].start(sender);
    c[1].start(stalled);
    int sent = 0;
    // Socket buffers plus 64k of queue fill long before 100 MB.
    while (c[0].isWritable() && sent < 6_400) {
      assertTrue(c[0].send(ByteBuffer.wrap(payload(16 * 1024, sent))));
      sent++;
    }
    assertFalse(c[0].isWritable(), "unwritable after " + sent + " messages of 16k");
    assertEquals(0, sender.writableCalls.get());
    release.countDown();
    assertTrue(writable.await(30, TimeUnit.SECONDS), "onWritable after the receiver resumed");
    assertTrue(c[0].isWritable());
    List<byte[]> got = stalled.awaitMessages(sent);
    for (int i = 0; i < sent; i++) {
      assertArrayEquals(payload(16 * 1024, i), got.get(i), "message " + i);
    }
    assertEquals(1, sender.writableCalls.get());
    assertEquals(List.of(), a.violations());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void closeWritesWhatIsQueuedThenThePeerSeesAnOrderlyClose(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults());
    CountDownLatch release = new CountDownLatch(1);
    CheckingHandler closer = new CheckingHandler();
    CheckingHandler stalled =
        new CheckingHandler() {
          @Override
          void received(byte[] message) {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    c[0].start(closer);
    c[1].start(stalled);
    int count = 200; // 200 x 16k: more than the socket buffers hold
    for (int i = 0; i < count; i++) {
      assertTrue(c[0].send(ByteBuffer.wrap(payload(16 * 1024, i))));
    }
    c[0].close();
    assertFalse(c[0].isOpen());
    assertFalse(c[0].send(ByteBuffer.allocate(1)), "send after close is refused");
    release.countDown();
    List<byte[]> got = stalled.awaitMessages(count);
    for (int i = 0; i < count; i++) {
      assertArrayEquals(payload(16 * 1024, i), got.get(i), "message " + i);
    }
    assertNull(closer.awaitClosed());
    assertNull(stalled.awaitClosed(), "the peer sees end of stream between frames");
    assertEquals(count, stalled.messages.size());
    assertEquals(1, closer.closedCalls.get());
    assertEquals(List.of(), stalled.violations());
    assertEquals(List.of(), closer.violations());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void closeGivesUpAfterLingerWhenThePeerNeverReads(boolean nativeGather) throws Exception {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    Connection c = connection(sockets.a(), nativeGather, TransportOptions.defaults().with("linger", "200ms"));
    CheckingHandler h = new CheckingHandler();
    c.start(h);
    for (int i = 0; i < 200; i++) {
      c.send(ByteBuffer.allocate(16 * 1024));
    }
    c.close();
    Throwable cause = h.awaitClosed();
    assertInstanceOf(IOException.class, cause);
    assertTrue(cause.getMessage().contains("linger=200ms"), cause.getMessage());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void aLengthOverMaxMessageSizeFailsTheConnection(boolean nativeGather) throws Exception {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    Connection c = connection(sockets.a(), nativeGather, TransportOptions.defaults().with("maxMessageSize", "1k"));
    CheckingHandler h = new CheckingHandler();
    c.start(h);
    sockets.b().write(ByteBuffer.wrap(concat(frame(payload(3, 1)), new byte[] {0x7f, 0, 0, 0})));
    Throwable cause = h.awaitClosed();
    assertInstanceOf(ProtocolException.class, cause);
    assertEquals(
        "frame length 2130706432 exceeds maxMessageSize 1024 (set the transport option maxMessageSize to raise it)",
        cause.getMessage());
    assertEquals(1, h.messages.size(), "the frame before it was delivered");
    assertFalse(c.isOpen());
    assertEquals(-1, sockets.b().read(ByteBuffer.allocate(1)), "the channel was closed");
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void endOfStreamInTheMiddleOfAFrameFailsTheConnection(boolean nativeGather) throws Exception {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    Connection c = connection(sockets.a(), nativeGather, TransportOptions.defaults());
    CheckingHandler h = new CheckingHandler();
    c.start(h);
    sockets.b().write(ByteBuffer.wrap(java.util.Arrays.copyOf(frame(payload(50, 1)), 4 + 20)));
    sockets.b().close();
    Throwable cause = h.awaitClosed();
    assertInstanceOf(EOFException.class, cause);
    assertEquals("peer closed the connection in the middle of a frame: 20 of 50 payload bytes arrived", cause.getMessage());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void endOfStreamBetweenFramesIsAnOrderlyClose(boolean nativeGather) throws Exception {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    Connection c = connection(sockets.a(), nativeGather, TransportOptions.defaults());
    CheckingHandler h = new CheckingHandler();
    c.start(h);
    sockets.b().write(ByteBuffer.wrap(frame(payload(50, 1))));
    sockets.b().close();
    assertNull(h.awaitClosed());
    assertEquals(1, h.messages.size());
    assertFalse(c.isOpen());
    assertFalse(c.send(ByteBuffer.allocate(1)));
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void anExceptionFromOnMessageFailsTheConnectionWithIt(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults());
    RuntimeException boom = new IllegalStateException("handler bug");
    CheckingHandler h =
        new CheckingHandler() {
          @Override
          void received(byte[] message) {
            throw boom;
          }
        };
    CheckingHandler peer = new CheckingHandler();
    c[0].start(peer);
    c[1].start(h);
    c[0].send(ByteBuffer.allocate(1));
    assertEquals(boom, h.awaitClosed());
    assertNull(peer.awaitClosed());
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void closeBeforeStartClosesTheChannelAndStartThenReportsIt(boolean nativeGather) throws Exception {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    Connection c = connection(sockets.a(), nativeGather, TransportOptions.defaults());
    c.close();
    c.close();
    assertFalse(c.isOpen());
    assertEquals(-1, sockets.b().read(ByteBuffer.allocate(1)));
    CheckingHandler h = new CheckingHandler();
    c.start(h);
    assertNull(h.awaitClosed());
    assertThrows(IllegalStateException.class, () -> c.start(new CheckingHandler()));
  }

  @ParameterizedTest(name = "nativeGather={0}")
  @ValueSource(booleans = {true, false})
  void startTwiceIsRefused(boolean nativeGather) throws Exception {
    Connection[] c = pair(nativeGather, TransportOptions.defaults());
    MessageHandler h = new CheckingHandler();
    c[0].start(h);
    assertThrows(IllegalStateException.class, () -> c[0].start(h));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, r, a.length, b.length);
    return r;
  }
  /** Counts the reads that found nothing: each one is a system call that bought nothing. */
  private static final class CountingIo implements StreamIo {
    private final StreamIo delegate;
    final AtomicInteger emptyReads = new AtomicInteger();

    CountingIo(StreamIo delegate) {
      this.delegate = delegate;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      int n = delegate.read(dst);
      if (n == 0) {
        emptyReads.incrementAndGet();
      }
      return n;
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      return delegate.write(srcs, offset, length);
    }

    @Override
    public int await(boolean read, boolean write, long timeoutMillis) throws IOException {
      return delegate.await(read, write, timeoutMillis);
    }

    @Override
    public void wakeup() {
      delegate.wakeup();
    }

    @Override
    public void shutdownOutput() throws IOException {
      delegate.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
      delegate.close();
    }
  }

  @Test
  void afterAReadThatEmptiedTheSocketTheReaderWaitsInsteadOfReadingNothing() throws Exception {
    SocketPair sockets = SocketPair.open();
    toClose.add(sockets);
    CountingIo io = new CountingIo(new SelectorStreamIo(sockets.a(), sockets.a(), true));
    Connection a =
        new StreamConnection(io, TransportOptions.defaults(), 64 * 1024, "test", "local", "remote", Set.of(), Optional.empty());
    toClose.add(a::close);
    Connection b = connection(sockets.b(), true, TransportOptions.defaults());
    Semaphore answers = new Semaphore(0);
    a.start(
        new MessageHandler() {
          @Override
          public void onMessage(ByteBuffer message) {
            answers.release();
          }

          @Override
          public void onClosed(Throwable cause) {}
        });
    b.start(
        new MessageHandler() {
          @Override
          public void onMessage(ByteBuffer message) {
            b.send(ByteBuffer.allocate(message.remaining()).put(message).flip());
          }

          @Override
          public void onClosed(Throwable cause) {}
        });
    int rounds = 500;
    for (int i = 0; i < rounds; i++) {
      assertTrue(a.send(ByteBuffer.wrap(payload(64, i))));
      assertTrue(answers.tryAcquire(10, TimeUnit.SECONDS), "answer " + i);
    }
    // Each answer is one short read; reading again straight after it would find nothing, once per
    // answer. Waiting first leaves only reads after a wake-up that was not for input.
    assertTrue(io.emptyReads.get() < rounds / 10, io.emptyReads.get() + " empty reads for " + rounds + " answers");
  }
}
