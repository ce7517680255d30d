package io.lpcbridge.transport.channel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.channels.spi.SelectorProvider;

/**
 * {@link StreamIo} over NIO selectable channels: one socket channel, or the two ends of a pair of
 * pipes. Waits with a {@link Selector} from the channel's own provider, since a channel can only be
 * registered with a selector of its provider (junixsocket channels need junixsocket's).
 *
 * <p>Gathering writes go to the channel as they are only when it belongs to the JDK's default
 * provider, whose {@code write(ByteBuffer[])} is one {@code writev}. Other providers are not trusted
 * with it: junixsocket 2.11.1 writes only the first buffer of the array, so a header and its
 * payload would leave in two syscalls and could wake the peer twice. For those, the buffers are
 * copied into one direct staging buffer and written with one {@code write} per {@value
 * #STAGING_BYTES} bytes; junixsocket would copy a heap buffer into a direct one anyway.
 *
 * <p>Reads and writes run with the calling thread's interrupt status cleared, and restored after.
 * junixsocket's channels, non-blocking ones included, close when the thread in a call has been
 * interrupted; a caller of {@code send} may be (a blocking stub being cancelled, a pool shut down
 * with {@code shutdownNow}), and the connection carries other calls. The conformance case
 * {@code anInterruptedCallerSendsAndTheConnectionStaysOpen} failed on unix before this. Only an
 * interrupt landing within the system call itself can still close the channel.
 */
final class SelectorStreamIo implements StreamIo {
  static final int STAGING_BYTES = 64 * 1024;

  private final ReadableByteChannel in;
  private final GatheringByteChannel out;
  private final Selector selector;
  private final SelectionKey inKey;
  private final SelectionKey outKey;
  /** Null when {@code out} gathers natively. Used under the caller's write serialisation. */
  private final ByteBuffer staging;

  /** Over one socket channel, in both directions. */
  static SelectorStreamIo forSocket(SocketChannel channel) throws IOException {
    return new SelectorStreamIo(channel, channel, channel.provider() == SelectorProvider.provider());
  }

  /**
   * @param in the channel to read from
   * @param out the channel to write to; may be {@code in}. Both must share a provider.
   * @param nativeGather whether {@code out.write(ByteBuffer[])} writes all buffers in one call
   */
  <I extends SelectableChannel & ReadableByteChannel, O extends SelectableChannel & GatheringByteChannel>
      SelectorStreamIo(I in, O out, boolean nativeGather) throws IOException {
    this.in = in;
    this.out = out;
    this.staging = nativeGather ? null : ByteBuffer.allocateDirect(STAGING_BYTES);
    in.configureBlocking(false);
    out.configureBlocking(false);
    this.selector = in.provider().openSelector();
    try {
      this.inKey = in.register(selector, 0);
      this.outKey = out == (Object) in ? inKey : out.register(selector, 0);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    boolean interrupted = Thread.interrupted(); // see the class comment
    try {
      return in.read(dst);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    boolean interrupted = Thread.interrupted(); // see the class comment
    try {
      return write0(srcs, offset, length);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private long write0(ByteBuffer[] srcs, int offset, int length) throws IOException {
    if (staging == null) {
      return out.write(srcs, offset, length);
    }
    long total = 0;
    int i = offset;
    int end = offset + length;
    while (true) {
      while (i < end && !srcs[i].hasRemaining()) {
        i++;
      }
      if (i == end) {
        return total;
      }
      int staged = stage(srcs, i, end);
      int written = out.write(staging);
      total += written;
      advance(srcs, i, written);
      if (written < staged) {
        return total;
      }
    }
  }

  /** Copies from {@code srcs[first..end)} into the staging buffer without moving their positions. */
  private int stage(ByteBuffer[] srcs, int first, int end) {
    staging.clear();
    for (int i = first; i < end && staging.hasRemaining(); i++) {
      ByteBuffer src = srcs[i];
      int n = Math.min(src.remaining(), staging.remaining());
      staging.put(staging.position(), src, src.position(), n);
      staging.position(staging.position() + n);
    }
    staging.flip();
    return staging.remaining();
  }

  private static void advance(ByteBuffer[] srcs, int first, long bytes) {
    for (int i = first; bytes > 0; i++) {
      ByteBuffer src = srcs[i];
      int n = (int) Math.min(src.remaining(), bytes);
      src.position(src.position() + n);
      bytes -= n;
    }
  }

  @Override
  public int await(boolean read, boolean write, long timeoutMillis) throws IOException {
    if (!inKey.isValid() || !outKey.isValid()) {
      // junixsocket cancels the key of a descriptor that polled POLLHUP or POLLERR, and a cancelled
      // key is never selected again: waiting would block forever with the end of the stream (or
      // the error) still unread. Say ready; the next read or write reports what happened.
      return (read ? READABLE : 0) | (write ? WRITABLE : 0);
    }
    int readOps = read ? SelectionKey.OP_READ : 0;
    int writeOps = write ? SelectionKey.OP_WRITE : 0;
    if (inKey == outKey) {
      interest(inKey, readOps | writeOps);
    } else {
      interest(inKey, readOps);
      interest(outKey, writeOps);
    }
    int selected = timeoutMillis > 0 ? selector.select(timeoutMillis) : selector.select();
    if (selected == 0) {
      return 0;
    }
    int ready = 0;
    for (SelectionKey key : selector.selectedKeys()) {
      try {
        int ops = key.readyOps();
        ready |= (ops & SelectionKey.OP_READ) != 0 ? READABLE : 0;
        ready |= (ops & SelectionKey.OP_WRITE) != 0 ? WRITABLE : 0;
      } catch (CancelledKeyException e) {
        // The channel was closed under us: the next read or write reports it.
        ready |= READABLE | WRITABLE;
      }
    }
    selector.selectedKeys().clear();
    return ready;
  }

  private static void interest(SelectionKey key, int ops) {
    if (key.interestOps() != ops) {
      key.interestOps(ops);
    }
  }

  @Override
  public void wakeup() {
    selector.wakeup();
  }

  @Override
  public void shutdownOutput() throws IOException {
    if (out instanceof SocketChannel socket) {
      socket.shutdownOutput();
    } else if (out != (Object) in) {
      out.close();
    }
  }

  @Override
  public void close() throws IOException {
    // The selector first: the JDK defers closing a channel that is still registered.
    IOException failure = null;
    for (AutoCloseableIo c : new AutoCloseableIo[] {selector::close, in::close, out::close}) {
      try {
        c.close();
      } catch (IOException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @FunctionalInterface
  private interface AutoCloseableIo {
    void close() throws IOException;
  }
}
