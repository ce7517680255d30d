package io.lpcbridge.transport.shm;

import static io.lpcbridge.transport.shm.RecordDescriptor.CLOSE;

import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.HandlerCallbacks;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.MessageTooLargeException;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.ReadRole;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.WriteWatermark;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.newsclub.net.unix.AFUNIXSocketChannel;

/**
 * One end of a shared-memory connection: a ring to write, a ring to read, a doorbell to sleep on,
 * the peer's doorbell to ring, and the rendezvous socket, kept open only to learn when the peer
 * process is gone.
 *
 * <h2>Threads</h2>
 *
 * <ul>
 *   <li>A sender writes its message into the ring itself, under {@link #lock}, and rings the peer's
 *       doorbell (a system call only if the peer sleeps). What does not fit is copied to {@link
 *       #queue}; nothing blocks.
 *   <li>The <b>reader thread</b> reads the inbound ring and runs {@link MessageHandler#onMessage} on
 *       a view of the ring itself, releasing the record only after the handler returns (zero copy).
 *       It also flushes the queue once the peer frees space, carries out {@link #close()} and
 *       delivers {@link MessageHandler#onClosed}. When there is nothing to do it waits as the {@link
 *       IdleStrategy} says.
 *   <li>A thread about to wait for a reply may read the inbound ring itself ({@link
 *       #receiveInline}): reading is a {@link ReadRole}, which the reader thread gives up while
 *       inline receivers want it and for {@link ReadRole#GRACE_NANOS} after the last inline
 *       receive. The inline receiver reads, delivers and waits exactly as the reader thread would,
 *       with the same idler, so a blocking call's reply needs no hand-off between threads.
 *   <li>The <b>watcher thread</b> blocks reading the rendezvous socket. The kernel closes a dead
 *       process's sockets however it dies, so end of file there means the peer is gone: the watcher
 *       sets {@link #peerGone} and rings this side's own doorbell. The reader then delivers what the
 *       peer wrote before it went and fails the connection. (No heartbeat word is needed: a peer
 *       that hangs without dying is the bridge keepalive's business, as over any other transport.)
 * </ul>
 *
 * <h2>The mapping</h2>
 *
 * The segment is unmapped by the reader thread at the very end, under {@link #lock}. Every other
 * thread touches the segment only under that lock and after checking {@link #released}, so nothing
 * can touch it after the unmap (and a shared arena would turn a stray access into an exception,
 * not a crash).
 */
final class ShmConnection implements Connection {
  private static final System.Logger LOG = System.getLogger(ShmConnection.class.getName());

  enum Side {
    CLIENT,
    SERVER
  }

  private static final int OPEN = 0;
  private static final int CLOSING = 1;
  private static final int CLOSED = 2;
  /** Records read per pass before the reader looks at its other duties. */
  private static final int READ_BATCH = 64;
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

  private final MappedSegment mapping;
  private final AFUNIXSocketChannel socket;
  private final RingWriter writer;
  private final RingReader reader;
  private final Doorbell ownBell;
  private final Doorbell peerBell;
  private final Idler idler;
  private final int maxMessageSize;
  private final Duration linger;
  private final String localAddress;
  private final String remoteAddress;
  private final Set<Capability> capabilities;
  private final Optional<PeerCredentials> peerCredentials;

  /** Serializes producers of the outbound ring and guards the mapping against unmapping. */
  private final ReentrantLock lock = new ReentrantLock();
  /** Messages, or the rest of one, waiting for room in the ring, in order. Guarded by lock. */
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  /** Guarded by lock: set once the mapping is unmapped. */
  private boolean released;
  /** Written under lock. */
  private volatile int state = OPEN;
  /** Set once, under lock. */
  private volatile MessageHandler handler;
  /** The first failure found outside the reader thread (a corrupt Head, a failed wake-up). */
  private volatile Throwable failure;
  /** The rendezvous socket reached end of file or failed: the peer process is gone. */
  private volatile boolean peerGone;
  /** The queue or a CLOSE record waits for the consumer to free space and say so. */
  private volatile boolean waitingForSpace;

  private final WriteWatermark watermark;
  private final HandlerCallbacks callbacks = new HandlerCallbacks(this);

  /** Who reads the inbound ring and uses the idler: the reader thread, or a thread in receiveInline. */
  private final ReadRole role = new ReadRole();

  /** A message, or its unsent rest, copied for later. */
  private static final class Pending {
    final ByteBuffer bytes;
    /** The whole message's length. */
    final int total;
    /** Message bytes already in the ring; -1 before the first record. */
    int sent;
    /** Message byte {@code sent} is at index {@code sent - base} of {@code bytes}. */
    final int base;

    Pending(ByteBuffer bytes, int total, int sent, int base) {
      this.bytes = bytes;
      this.total = total;
      this.sent = sent;
      this.base = base;
    }
  }

  ShmConnection(
      Side side,
      MappedSegment mapping,
      AFUNIXSocketChannel socket,
      TransportOptions options,
      IdleStrategy idleStrategy,
      long spinNanos,
      String localAddress,
      String remoteAddress,
      Set<Capability> capabilities,
      Optional<PeerCredentials> peerCredentials) {
    this.mapping = mapping;
    this.socket = socket;
    this.maxMessageSize = options.maxMessageSize();
    this.watermark = new WriteWatermark(options.writeHighWaterMark());
    this.linger = options.linger();
    this.localAddress = localAddress;
    this.remoteAddress = remoteAddress;
    this.capabilities = Set.copyOf(capabilities);
    this.peerCredentials = peerCredentials;

    var s = mapping.segment();
    int capacity = mapping.capacity();
    boolean client = side == Side.CLIENT;
    int out = client ? SegmentDescriptor.CLIENT_TO_SERVER : SegmentDescriptor.SERVER_TO_CLIENT;
    int in = client ? SegmentDescriptor.SERVER_TO_CLIENT : SegmentDescriptor.CLIENT_TO_SERVER;
    String outName = client ? "ring client to server" : "ring server to client";
    String inName = client ? "ring server to client" : "ring client to server";
    this.writer =
        new RingWriter(
            s, SegmentDescriptor.ringControlOffset(out), SegmentDescriptor.ringDataOffset(out, capacity), capacity, outName);
    this.reader =
        new RingReader(
            s,
            SegmentDescriptor.ringControlOffset(in),
            SegmentDescriptor.ringDataOffset(in, capacity),
            capacity,
            maxMessageSize,
            inName);
    long ownBellAt = client ? SegmentDescriptor.CLIENT_DOORBELL_OFFSET : SegmentDescriptor.SERVER_DOORBELL_OFFSET;
    long peerBellAt = client ? SegmentDescriptor.SERVER_DOORBELL_OFFSET : SegmentDescriptor.CLIENT_DOORBELL_OFFSET;
    this.ownBell = new Doorbell(s.asSlice(ownBellAt, Integer.BYTES));
    this.peerBell = new Doorbell(s.asSlice(peerBellAt, Integer.BYTES));
    CpuHint cpus =
        new CpuHint(
            s,
            client ? SegmentDescriptor.CLIENT_CPU_OFFSET : SegmentDescriptor.SERVER_CPU_OFFSET,
            client ? SegmentDescriptor.SERVER_CPU_OFFSET : SegmentDescriptor.CLIENT_CPU_OFFSET);
    this.idler = Idler.create(idleStrategy, spinNanos, ownBell, cpus);
  }

  // ------------------------------------------------------------------------------ Connection

  @Override
  public void start(MessageHandler messageHandler) {
    Objects.requireNonNull(messageHandler, "handler");
    lock.lock();
    try {
      if (handler != null) {
        throw new IllegalStateException("start() was already called on " + this);
      }
      handler = messageHandler;
    } finally {
      lock.unlock();
    }
    if (state != CLOSED) {
      Thread.ofPlatform().daemon().name("shm watcher " + remoteAddress).stackSize(128 * 1024).start(this::watchPeer);
    }
    role.startReader("shm reader " + remoteAddress, this::runReader);
  }

  @Override
  public boolean send(ByteBuffer message) {
    int size = message.remaining();
    if (size > maxMessageSize) {
      throw new MessageTooLargeException(size, maxMessageSize);
    }
    if (state != OPEN) {
      return false;
    }
    lock.lock();
    try {
      if (state != OPEN) {
        return false;
      }
      if (!queue.isEmpty()) {
        flushLocked();
      }
      int sent = -1;
      if (queue.isEmpty()) {
        sent = writer.writeMessage(message, message.position(), size, -1);
      }
      if (sent > 0 || (sent == 0 && size == 0)) {
        ringPeer();
      }
      if (sent < size) {
        int from = Math.max(sent, 0);
        ByteBuffer rest = ByteBuffer.allocate(size - from).put(0, message, message.position() + from, size - from);
        queue.add(new Pending(rest, size, sent, from));
        watermark.queued(size - from);
        // Asks the consumer for a wake-up, or writes on if space appeared meanwhile.
        flushLocked();
      }
      return true;
    } catch (ShmProtocolException | NativeException e) {
      failLocked(e);
      return false;
    } finally {
      lock.unlock();
      maybeWritable();
    }
  }

  @Override
  public boolean isWritable() {
    return state == OPEN && watermark.isWritable();
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (state != OPEN) {
        return;
      }
      if (handler != null) {
        state = CLOSING;
        wakeReaderLocked();
        return;
      }
      // Never started: nobody will read. Say goodbye if the ring has room, and let go now; a later
      // start() only reports the close.
      state = CLOSED;
      try {
        if (flushLocked()) {
          writeCloseLocked();
        }
      } catch (ShmProtocolException | NativeException e) {
        LOG.log(System.Logger.Level.DEBUG, () -> "closing unstarted " + this, e);
      }
      releaseLocked();
    } finally {
      lock.unlock();
    }
    closeSocket();
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

  /** For tests: the segment (valid until the connection closes). */
  MappedSegment mapping() {
    return mapping;
  }

  /** For tests: sleeps that ended by timeout with work waiting. */
  long lateWakeups() {
    return idler.lateWakeups();
  }

  @Override
  public String toString() {
    return "shm connection " + localAddress + " <-> " + remoteAddress;
  }

  // ------------------------------------------------------------------------------ writing

  /**
   * Writes queued messages while the ring has room.
   *
   * @return true when the queue is empty
   */
  private boolean flushLocked() throws ShmProtocolException, NativeException {
    boolean wrote = false;
    try {
      while (true) {
        Pending p;
        while ((p = queue.peekFirst()) != null) {
          int before = Math.max(p.sent, 0);
          p.sent = writer.writeMessage(p.bytes, -p.base, p.total, p.sent);
          int now = Math.max(p.sent, 0);
          if (now > before || p.sent == p.total) {
            wrote = true;
            watermark.sent(now - before);
          }
          if (p.sent != p.total) {
            break;
          }
          queue.pollFirst();
        }
        if (queue.isEmpty()) {
          waitingForSpace = false;
          return true;
        }
        if (!requestSpaceLocked()) {
          return false;
        }
      }
    } finally {
      if (wrote) {
        ringPeer();
      }
    }
  }

  /**
   * Asks the consumer to ring once it frees space for the queue's next record.
   *
   * @return true if space appeared meanwhile (flush again)
   */
  private boolean requestSpaceLocked() throws ShmProtocolException {
    Pending p = queue.peekFirst();
    int payload = p == null ? 0 /* the CLOSE record */ : writer.nextPayload(p.total, p.sent);
    waitingForSpace = true;
    return writer.requestSpace(payload);
  }

  private boolean writeCloseLocked() throws ShmProtocolException, NativeException {
    while (!writer.tryWrite(CLOSE, EMPTY, 0, 0, 0)) {
      if (!requestSpaceLocked()) {
        return false;
      }
    }
    waitingForSpace = false;
    ringPeer();
    return true;
  }

  private void ringPeer() throws NativeException {
    peerBell.ring();
  }

  private void failLocked(Throwable e) {
    if (failure == null) {
      failure = e;
    }
    wakeReaderLocked();
  }

  /** Wakes this side's reader thread, wherever it waits. Called under lock. */
  private void wakeReaderLocked() {
    if (!released) {
      try {
        ownBell.ring();
      } catch (NativeException e) {
        if (failure == null) {
          failure = e;
        }
      }
    }
    Thread r = role.currentReader();
    if (r != null) {
      LockSupport.unpark(r);
    }
  }

  private void maybeWritable() {
    if (state == OPEN && watermark.becameWritable()) {
      callbacks.writable(handler);
    }
  }

  // ------------------------------------------------------------------------------ reader thread

  private void runReader() {
    Throwable cause;
    if (state == CLOSED) {
      cause = null;
    } else {
      // The role is held to the end, so that no inline receiver touches the segment once released.
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
        lock.lock();
        try {
          state = CLOSED;
          releaseLocked();
        } finally {
          lock.unlock();
        }
      } finally {
        role.unlockIfHeld();
      }
      closeSocket();
    }
    callbacks.closed(handler, cause);
  }

  /** Reads, delivers and flushes until the peer closes or dies, this side closes, or something fails. */
  private Throwable readUntilDone() throws Exception {
    Consumer<ByteBuffer> sink = handler::onMessage;
    Idler.Condition ready = () -> readyWhileOpen() || role.inlineWanted();
    while (true) {
      Throwable f = failure;
      if (f != null) {
        return f;
      }
      int n = readPass(sink);
      if (reader.closeSeen()) {
        return null;
      }
      boolean flushed = watermark.queued() > 0 && flushFromReader();
      if (state == CLOSING) {
        return linger(sink);
      }
      if (peerGone && n == 0 && !reader.hasData()) {
        return peerGoneCause();
      }
      // Also when nothing was read: the flush may have turned the connection writable, and the
      // onReady callbacks that follow are deferred to this thread. Left for the next record, they
      // would wait forever when every call is waiting for them.
      if (!role.runDeferred()) {
        return null;
      }
      if (n > 0 || flushed) {
        idler.busy();
      } else if (role.readerShouldStandAside()) {
        role.standAside(() -> state == OPEN && failure == null && !peerGone);
      } else {
        idler.idle(ready, Idler.MAX_SLEEP_NANOS);
      }
    }
  }

  @Override
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    MessageHandler h = handler;
    if (h == null) {
      return false;
    }
    Consumer<ByteBuffer> sink = h::onMessage;
    // wakeReceivers rings the doorbell, which ends a sleep; the loop then checks done again.
    Idler.Condition ready = () -> readyWhileOpen() || done.getAsBoolean();
    return role.receiveInline(
        done,
        timeoutNanos,
        () -> state == OPEN && failure == null,
        this::wakeReader,
        maxWait -> {
          int n = readPass(sink);
          if (reader.closeSeen() || (peerGone && n == 0 && !reader.hasData())) {
            return false; // the reader thread reports the end
          }
          boolean flushed = watermark.queued() > 0 && flushFromReader();
          if (n > 0 || flushed) {
            idler.busy();
          } else {
            idler.idle(ready, maxWait);
          }
          return true;
        },
        t -> {
          lock.lock();
          try {
            failLocked(t);
          } finally {
            lock.unlock();
          }
        });
  }

  @Override
  public void wakeReceivers() {
    role.wake(this::wakeReader);
  }

  private void wakeReader() {
    lock.lock();
    try {
      wakeReaderLocked();
    } finally {
      lock.unlock();
    }
  }

  private int readPass(Consumer<ByteBuffer> sink) throws ShmProtocolException, NativeException {
    int n = reader.read(sink, READ_BATCH);
    if (n > 0 && reader.takeSpaceRequest()) {
      ringPeer();
    }
    return n;
  }

  private boolean readyWhileOpen() {
    return failure != null
        || state != OPEN
        || peerGone
        || reader.hasData()
        || (waitingForSpace && writer.spaceRequestAnswered());
  }

  private boolean readyWhileLingering() {
    return failure != null || peerGone || reader.hasData() || (waitingForSpace && writer.spaceRequestAnswered());
  }

  /** @return whether anything was written */
  private boolean flushFromReader() throws ShmProtocolException, NativeException {
    if (!waitingForSpace || !writer.spaceRequestAnswered()) {
      return false;
    }
    if (!lock.tryLock()) {
      return false; // the holder flushes before it lets go
    }
    try {
      long before = watermark.queued();
      flushLocked();
      return watermark.queued() != before;
    } finally {
      lock.unlock();
      maybeWritable();
    }
  }

  /**
   * After close(): writes what is queued, then CLOSE, for at most the linger time, still delivering
   * what arrives.
   */
  private Throwable linger(Consumer<ByteBuffer> sink) throws Exception {
    role.endDeferral(); // what lingering delivers goes to the pool
    long deadline = System.nanoTime() + linger.toNanos();
    Idler.Condition ready = this::readyWhileLingering;
    while (true) {
      Throwable f = failure;
      if (f != null) {
        return f;
      }
      int n = readPass(sink);
      if (reader.closeSeen()) {
        return null; // the peer closed too and reads no more
      }
      lock.lock();
      try {
        if (flushLocked() && writeCloseLocked()) {
          return null;
        }
      } finally {
        lock.unlock();
      }
      if (peerGone && !reader.hasData()) {
        return new IOException(
            "the peer " + remoteAddress + " went away while " + Math.max(watermark.queued(), 0)
                + " bytes were still queued for it at close; they were dropped");
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return new IOException(
            "closed with " + watermark.queued() + " bytes still queued for " + remoteAddress + " after waiting linger="
                + linger.toMillis() + "ms for the peer to read them; they were dropped (raise the transport option"
                + " linger to wait longer)");
      }
      if (n > 0) {
        idler.busy();
      } else {
        idler.idle(ready, left);
      }
    }
  }

  private IOException peerGoneCause() {
    return new IOException(
        "the peer " + remoteAddress + " is gone: its end of the rendezvous socket closed without a CLOSE record"
            + " in the ring (the process exited, was killed, or failed its connection)");
  }

  // ------------------------------------------------------------------------------ watcher thread

  private void watchPeer() {
    ByteBuffer sink = ByteBuffer.allocate(64);
    try {
      while (socket.read(sink.clear()) >= 0) {
        // The peer sends nothing after the handshake; anything it does send is ignored.
      }
    } catch (IOException | RuntimeException e) {
      // Reset by a dying peer, or closed by this side at the end: gone either way.
    }
    peerGone = true;
    lock.lock();
    try {
      wakeReaderLocked();
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------------------------ teardown

  private void releaseLocked() {
    if (released) {
      return;
    }
    released = true;
    queue.clear();
    watermark.clear();
    mapping.close();
  }

  private void closeSocket() {
    try {
      socket.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, () -> "closing the rendezvous socket of " + this, e);
    }
  }
}
