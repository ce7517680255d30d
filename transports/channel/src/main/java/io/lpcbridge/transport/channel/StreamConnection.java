package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.HandlerCallbacks;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.ReadRole;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A {@link Connection} of length-prefixed messages (see {@link Frames}) over a non-blocking byte
 * stream.
 *
 * <h2>Threads</h2>
 *
 * One platform daemon thread per connection reads: it reads first and waits in {@link
 * StreamIo#await} only when a read returns nothing, so a busy connection makes no poll/epoll call,
 * and it runs {@link MessageHandler#onMessage} inline on each message. Senders write on their own
 * thread ({@link FrameWriter}); the reader thread only finishes flushes the channel refused. There
 * is no other thread and no hand-off between threads on the path of a message.
 *
 * <p>A thread that waits for a reply can read it itself ({@link #receiveInline}). Reading is a
 * {@link ReadRole}: the reader thread holds it while it reads and waits, and gives it up while
 * inline receivers want it and for {@link ReadRole#GRACE_NANOS} after. A thread that makes one
 * blocking call after another thus keeps the role, and each reply costs one wake-up (the kernel
 * waking the caller) instead of two.
 *
 * <h2>Closing</h2>
 *
 * {@link #close()} does not block: it refuses further sends and wakes the reader thread, which
 * writes what is queued (reading and delivering meanwhile, so two sides closing at once cannot wait
 * on each other) for at most the linger time, shuts the output down, closes the channel and calls
 * {@link MessageHandler#onClosed}. Every other ending (end of stream, a read or write error, a
 * framing error, an exception thrown by {@code onMessage}) also goes through the reader thread, so
 * {@code onClosed} is called once, after the last {@code onMessage}.
 */
final class StreamConnection implements Connection {
  private static final System.Logger LOG = System.getLogger(StreamConnection.class.getName());

  private static final int OPEN = 0;
  private static final int CLOSING = 1;
  private static final int CLOSED = 2;

  private final StreamIo io;
  private final FrameWriter writer;
  private final FrameDecoder decoder;
  private final int maxMessageSize;
  private final Duration linger;
  private final String transportName;
  private final String localAddress;
  private final String remoteAddress;
  private final Set<Capability> capabilities;
  private final Optional<PeerCredentials> peerCredentials;

  private final Object lifecycleLock = new Object();
  /** Written under lifecycleLock. */
  private volatile int state = OPEN;
  /** Set once, under lifecycleLock. */
  private volatile MessageHandler handler;

  private final HandlerCallbacks callbacks = new HandlerCallbacks(this);

  /** Who reads: the reader thread, or a thread in receiveInline. */
  private final ReadRole role = new ReadRole();
  /** Thrown by the handler on an inline receiver: fails the connection through the reader. */
  private volatile Throwable inlineFailure;
  /**
   * The last read took less than it had room for, so the kernel had nothing more at that moment:
   * the next step waits before it reads. Used by the holder of the read role only.
   */
  private boolean drained;

  StreamConnection(
      StreamIo io,
      TransportOptions options,
      int initialReadBuffer,
      String transportName,
      String localAddress,
      String remoteAddress,
      Set<Capability> capabilities,
      Optional<PeerCredentials> peerCredentials) {
    this.io = io;
    this.maxMessageSize = options.maxMessageSize();
    this.linger = options.linger();
    this.writer = new FrameWriter(io, options.writeHighWaterMark(), io::wakeup, this::deliverWritable);
    this.decoder = new FrameDecoder(maxMessageSize, initialReadBuffer);
    this.transportName = transportName;
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
    this.capabilities = Set.copyOf(capabilities);
    this.peerCredentials = peerCredentials;
  }

  @Override
  public void start(MessageHandler messageHandler) {
    Objects.requireNonNull(messageHandler, "handler");
    synchronized (lifecycleLock) {
      if (handler != null) {
        throw new IllegalStateException("start() was already called on " + this);
      }
      handler = messageHandler;
    }
    role.startReader(transportName + " reader " + remoteAddress, this::runReader);
  }

  @Override
  public boolean send(ByteBuffer message) {
    int size = message.remaining();
    if (size > maxMessageSize) {
      throw new MessageTooLargeException(size, maxMessageSize);
    }
    return state == OPEN && writer.send(message);
  }

  @Override
  public boolean isWritable() {
    return state == OPEN && writer.isWritable();
  }

  @Override
  public void close() {
    boolean started;
    synchronized (lifecycleLock) {
      if (state != OPEN) {
        return;
      }
      started = handler != null;
      state = started ? CLOSING : CLOSED;
    }
    if (started) {
      io.wakeup();
      role.wake(() -> {});
    } else {
      // Nobody will read: close now. A later start() only reports the close.
      writer.abandon();
      closeIo();
    }
  }

  @Override
  public boolean isOpen() {
    return state == OPEN;
  }

  @Override
  public int maxMessageSize() {
    return maxMessageSize;
  }

  @Override
  public Set<Capability> capabilities() {
    return capabilities;
  }

  @Override
  public String localAddress() {
    return localAddress;
  }

  @Override
  public String remoteAddress() {
    return remoteAddress;
  }

  @Override
  public Optional<PeerCredentials> peerCredentials() {
    return peerCredentials;
  }

  @Override
  public String toString() {
    return transportName + " connection " + localAddress + " <-> " + remoteAddress;
  }

  private void runReader() {
    Throwable cause;
    if (state == CLOSED) {
      cause = null;
    } else {
      // The role is held to the end, so that no inline receiver reads a closed channel.
      role.lock();
      try {
        try {
          cause = readUntilDone();
        } catch (Throwable t) {
          cause = t;
        }
        if (!role.endDeferral()) {
          return; // replaced while running deferred work: the new reader thread carries on
        }
        writer.abandon();
        synchronized (lifecycleLock) {
          state = CLOSED;
        }
        closeIo();
      } finally {
        role.unlockIfHeld();
      }
    }
    deliverClosed(cause);
  }

  /**
   * Reads and delivers until the stream ends, the connection fails or close() is called. Called
   * holding the read role once; gives it up while inline receivers want it.
   */
  private Throwable readUntilDone() throws IOException {
    MessageHandler h = handler;
    while (true) {
      IOException failure = writer.failure();
      if (failure != null) {
        return failure;
      }
      Throwable thrown = inlineFailure;
      if (thrown != null) {
        return thrown;
      }
      if (state != OPEN) {
        return linger(h);
      }
      if (role.readerShouldStandAside()) {
        role.standAside(this::readable);
        continue;
      }
      if (step(h, 0) < 0) {
        return decoder.endOfStream();
      }
      if (!role.runDeferred()) {
        return null;
      }
    }
  }

  /**
   * One read, or one wait when there is nothing to read. Called by the holder of the read role.
   *
   * @return -1 at the end of the stream, otherwise 0
   */
  private int step(MessageHandler h, long timeoutMillis) throws IOException {
    if (drained) {
      // A read now would almost always find nothing (one more system call per message, and with
      // junixsocket two: it asks the descriptor's flags after EAGAIN). Wait first; poll is
      // level-triggered, so what arrived since the last read wakes it at once.
      drained = false;
      if ((io.await(true, writer.isBlocked(), timeoutMillis) & StreamIo.WRITABLE) != 0) {
        writer.flushFromReader();
      }
      return 0;
    }
    ByteBuffer into = decoder.readBuffer();
    int room = into.remaining();
    int n = io.read(into);
    if (n > 0) {
      drained = n < room;
      decoder.deliver(h);
      if (writer.isBlocked()) {
        // A busy reader would not reach await(): give the stalled output a chance here.
        writer.flushFromReader();
      }
    } else if (n < 0) {
      return -1;
    } else if ((io.await(true, writer.isBlocked(), timeoutMillis) & StreamIo.WRITABLE) != 0) {
      writer.flushFromReader();
    }
    return 0;
  }

  /** Whether reading may go on: open, and failed neither way. */
  private boolean readable() {
    return state == OPEN && inlineFailure == null && writer.failure() == null;
  }

  @Override
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    MessageHandler h = handler;
    if (h == null) {
      return false;
    }
    return role.receiveInline(
        done,
        timeoutNanos,
        this::readable,
        io::wakeup,
        // await's timeout is in milliseconds, 0 meaning none: round up, so a short wait still waits.
        maxWait -> step(h, Math.max(1, TimeUnit.NANOSECONDS.toMillis(maxWait + 999_999))) >= 0,
        t -> inlineFailure = t);
  }

  @Override
  public void wakeReceivers() {
    role.wake(io::wakeup);
  }

  /** After close(): writes what is queued, for at most the linger time, still delivering input. */
  private Throwable linger(MessageHandler h) throws IOException {
    role.endDeferral(); // what lingering delivers goes to the pool
    long deadline = System.nanoTime() + linger.toNanos();
    boolean inputEnded = false;
    while (true) {
      IOException failure = writer.failure();
      if (failure != null) {
        return failure;
      }
      if (writer.flushAndShutdown()) {
        return null;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return new IOException(
            "closed with "
                + writer.queuedBytes()
                + " bytes still queued for "
                + remoteAddress
                + " after waiting linger="
                + linger.toMillis()
                + "ms for the peer to read them; they were dropped (raise the transport option"
                + " linger to wait longer)");
      }
      long millis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(left));
      if ((io.await(!inputEnded, true, millis) & StreamIo.READABLE) != 0) {
        int n = io.read(decoder.readBuffer());
        if (n > 0) {
          decoder.deliver(h);
        } else if (n < 0) {
          inputEnded = true;
        }
      }
    }
  }

  private void closeIo() {
    try {
      io.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "closing " + this, e);
    }
  }

  private void deliverClosed(Throwable cause) {
    callbacks.closed(handler, cause);
  }

  private void deliverWritable() {
    callbacks.writable(handler);
  }
}
