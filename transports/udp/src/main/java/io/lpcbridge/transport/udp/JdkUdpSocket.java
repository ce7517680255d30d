package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.ReadRole;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * {@link UdpSocket} on a JDK {@link DatagramChannel} ({@code io=jdk}), with no event loop.
 *
 * <h2>Threads</h2>
 *
 * <ul>
 *   <li><b>The loop is a lock.</b> The sessions on the socket are touched only under {@link #lock};
 *       a thread that sends takes it, hands its message to the session and writes the datagrams
 *       itself, with no hand-off.
 *   <li><b>Reading is a {@link ReadRole}.</b> The socket's reader thread holds it, reads a batch of
 *       datagrams, and waits in a {@link Selector} until the next datagram or the next timer. A
 *       thread waiting for its reply ({@link #receiveInline}) takes the role and reads for itself,
 *       so its answer needs no hand-off either. Work a handler defers ({@link ReadRole#defer}) runs
 *       on the reader thread after the batch, without the role or the lock: a call is read,
 *       handled and answered on one thread.
 *   <li><b>Timers</b> (retransmission, delayed acknowledgement, keepalive, handshake) are kept in a
 *       queue under the lock and run by the holder of the read role between reads. A timer
 *       scheduled earlier than the holder's wait wakes its selector.
 *   <li><b>Each datagram is answered before the next is read</b> ({@link Handler#onReadComplete}
 *       after every one): acknowledgements and replies leave as they would from a Netty event loop,
 *       whose read loop stops after one datagram. Acknowledging once per batch of up to {@link
 *       #MAX_BATCH} held a sender back: under 10% loss a stream ran at a third of Netty's rate.
 *   <li><b>Upcalls</b> into the layer above ({@link #upcall}) are queued under the lock and run in
 *       order by the thread that released it, holding no lock: a forwarding handler sends on another
 *       socket, whose handler may send back on this one, and two locks taken in both orders would
 *       deadlock. A message is therefore copied out of the datagram before it goes up.
 * </ul>
 *
 * <h2>Interrupts</h2>
 *
 * The JDK closes a channel when a thread blocked in one of its calls is interrupted; this one is
 * non-blocking, so an interrupted caller sends as any other and the socket, which a listener
 * shares with every connection it accepted, stays open (conformance case {@code
 * anInterruptedCallerSendsAndTheConnectionStaysOpen}).
 */
final class JdkUdpSocket implements UdpSocket {
  /** Datagrams read in one batch before timers, upcalls and deferred work get their turn. */
  static final int MAX_BATCH = 64;
  /** How long a send waits for room in a full socket buffer before the datagram is dropped. */
  static final long SEND_RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
  private static final long SEND_RETRY_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
  /** Cancelled timers kept in the queue before it is purged. */
  private static final int MAX_CANCELLED = 64;

  private final DatagramChannel channel;
  private final Selector selector;
  /** The peer of a client's connected socket; null for a listener's. */
  private final InetSocketAddress connectedTo;
  private final InetSocketAddress local;
  private final Handler handler;
  private final String name;

  private final ReentrantLock lock = new ReentrantLock();
  private final ReadRole role = new ReadRole();
  private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(65_536);
  /** A view of {@link #receiveBuffer}, indexed to each datagram in turn; read by the role holder. */
  private final ByteBuf received = Unpooled.wrappedBuffer(receiveBuffer);
  private final ConcurrentLinkedQueue<Runnable> upcalls = new ConcurrentLinkedQueue<>();
  private final AtomicReference<Thread> drainer = new AtomicReference<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  // Under the lock.
  private final ArrayDeque<Runnable> owed = new ArrayDeque<>();
  private final PriorityQueue<TimerTask> timers = new PriorityQueue<>();
  private int cancelledTimers;
  private long timerSequence;
  private boolean inRead;
  private long plannedWake;

  /** The role holder waits in the selector until {@link #plannedWake}. */
  private volatile boolean waiting;
  /** The thread in {@link #step} (the holder of the read role), or one that ends the socket; it delivers upcalls. */
  private volatile Thread stepper;
  private volatile boolean open = true;
  /** Guarded by {@code this}. */
  private boolean readerStarted;

  private JdkUdpSocket(DatagramChannel channel, InetSocketAddress connectedTo, Handler handler) throws IOException {
    this.channel = channel;
    this.connectedTo = connectedTo;
    this.handler = handler;
    this.local = (InetSocketAddress) channel.getLocalAddress();
    this.name = "udp reader " + UdpTransportProvider.format(local)
        + (connectedTo == null ? "" : " -> " + UdpTransportProvider.format(connectedTo));
    channel.configureBlocking(false);
    this.selector = Selector.open();
    try {
      channel.register(selector, SelectionKey.OP_READ);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  private static DatagramChannel open(InetSocketAddress address) throws IOException {
    ProtocolFamily family = address.getAddress() instanceof Inet4Address ? StandardProtocolFamily.INET : StandardProtocolFamily.INET6;
    DatagramChannel ch = DatagramChannel.open(family);
    try {
      ch.setOption(StandardSocketOptions.SO_RCVBUF, UdpSettings.SOCKET_BUFFER);
      ch.setOption(StandardSocketOptions.SO_SNDBUF, UdpSettings.SOCKET_BUFFER);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    return ch;
  }

  static JdkUdpSocket connect(InetSocketAddress remote, Handler handler, String what) throws IOException {
    DatagramChannel ch = null;
    try {
      ch = open(remote);
      ch.connect(remote);
      JdkUdpSocket socket = new JdkUdpSocket(ch, remote, handler);
      socket.startReading();
      return socket;
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
      }
      IOException io = new IOException("udp: cannot open a socket to " + what + ": " + NettyUdpSocket.describe(e));
      io.initCause(e);
      throw io;
    }
  }

  static JdkUdpSocket bind(InetSocketAddress address, Handler handler, String what) throws IOException {
    DatagramChannel ch = null;
    try {
      ch = open(address);
      ch.bind(address);
      return new JdkUdpSocket(ch, null, handler);
    } catch (IOException | RuntimeException e) {
      if (ch != null) {
        ch.close();
      }
      BindException b = new BindException("udp: cannot listen on " + what + ": " + NettyUdpSocket.describe(e));
      b.initCause(e);
      throw b;
    }
  }

  // ------------------------------------------------------------------ the loop

  @Override
  public boolean inLoop() {
    return lock.isHeldByCurrentThread();
  }

  @Override
  public void execute(Runnable task) {
    if (lock.isHeldByCurrentThread()) {
      owed.add(task); // the section running now finishes first, then this
      return;
    }
    lock.lock();
    try {
      task.run();
    } finally {
      endSection();
    }
  }

  @Override
  public void executeAndWait(Runnable task, long timeoutMillis) {
    execute(task);
  }

  /**
   * Ends a section: the outermost one runs what sections owe, and once the lock is released the
   * upcalls queued meanwhile are delivered by the holder of the read role, as they would be by a
   * Netty event loop: never from within a caller's send(), which may hold locks of the layer above.
   * Another thread wakes the holder instead (they are rare there: a failure found while sending, a
   * connection started with messages held).
   */
  private void endSection() {
    try {
      if (lock.getHoldCount() == 1) {
        for (Runnable r; (r = owed.poll()) != null; ) {
          runReporting(r);
        }
      }
    } finally {
      lock.unlock();
    }
    if (!lock.isHeldByCurrentThread() && !upcalls.isEmpty()) {
      if (stepper == Thread.currentThread()) {
        drainUpcalls();
      } else {
        selector.wakeup();
      }
    }
  }

  private static void runReporting(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException | Error e) {
      Thread t = Thread.currentThread();
      t.getUncaughtExceptionHandler().uncaughtException(t, e);
    }
  }

  @Override
  public Timer schedule(Runnable task, long delayNanos) {
    TimerTask t = new TimerTask(System.nanoTime() + Math.max(0, delayNanos), timerSequence++, task);
    timers.add(t);
    if (waiting && t.deadline - plannedWake < 0) {
      selector.wakeup(); // the role holder waits past this deadline: let it look again
    }
    return t;
  }

  /** Runs the timers that are due, in deadline order. Under the lock. */
  private void runTimers(long now) {
    for (TimerTask t; (t = timers.peek()) != null && (t.cancelled || t.deadline - now <= 0); ) {
      timers.poll();
      if (t.cancelled) {
        cancelledTimers--;
      } else {
        t.cancelled = true;
        runReporting(t.task);
      }
    }
  }

  /** How long the role holder may wait: until the next timer, and at most {@code maxWaitNanos} if positive. */
  private long waitNanos(long now, long maxWaitNanos) {
    TimerTask next = timers.peek();
    long wait = next == null ? Long.MAX_VALUE : Math.max(0, next.deadline - now);
    return maxWaitNanos > 0 ? Math.min(wait, maxWaitNanos) : wait;
  }

  private final class TimerTask implements Timer, Comparable<TimerTask> {
    final long deadline;
    final long sequence;
    final Runnable task;
    boolean cancelled;

    TimerTask(long deadline, long sequence, Runnable task) {
      this.deadline = deadline;
      this.sequence = sequence;
      this.task = task;
    }

    @Override
    public void cancel() {
      if (cancelled) {
        return;
      }
      cancelled = true;
      if (++cancelledTimers > MAX_CANCELLED) {
        timers.removeIf(x -> x.cancelled);
        cancelledTimers = 0;
      }
    }

    @Override
    public int compareTo(TimerTask o) {
      int c = Long.compare(deadline - o.deadline, 0);
      return c != 0 ? c : Long.compare(sequence, o.sequence);
    }
  }

  @Override
  public void upcall(Runnable call) {
    upcalls.add(call);
  }

  @Override
  public boolean defersUpcalls() {
    return true;
  }

  /**
   * Delivers queued upcalls in order, unless this thread is delivering them already, further up the
   * stack (a handler's send): that loop picks up what was added meanwhile.
   */
  private void drainUpcalls() {
    Thread me = Thread.currentThread();
    while (!upcalls.isEmpty() && drainer.compareAndSet(null, me)) {
      try {
        for (Runnable r; (r = upcalls.poll()) != null; ) {
          runReporting(r);
        }
      } finally {
        drainer.set(null);
      }
    }
  }

  @Override
  public boolean inReadBatch() {
    return inRead;
  }

  // ------------------------------------------------------------------ the socket

  @Override
  public ByteBuf allocate(int capacity) {
    return PooledByteBufAllocator.DEFAULT.directBuffer(capacity);
  }

  @Override
  public void write(ByteBuf datagram, InetSocketAddress to) {
    try {
      ByteBuffer b = datagram.nioBuffer();
      int length = b.remaining();
      if (send(b, to) == 0 && length > 0) {
        long start = System.nanoTime();
        int sent;
        do {
          LockSupport.parkNanos(SEND_RETRY_PARK_NANOS);
          sent = send(b, to);
        } while (sent == 0 && System.nanoTime() - start < SEND_RETRY_NANOS);
        if (sent == 0) {
          owed.add(() -> handler.onError(new IOException(
              "udp: the socket's send buffer stayed full for " + TimeUnit.NANOSECONDS.toMicros(SEND_RETRY_NANOS)
                  + " µs; a " + length + "-byte datagram was dropped")));
        }
      }
    } catch (IOException e) {
      owed.add(() -> handler.onError(e));
      if (e instanceof ClosedChannelException) {
        close(); // the channel closed under us: the socket is gone
      }
    } finally {
      datagram.release();
    }
  }

  private int send(ByteBuffer b, InetSocketAddress to) throws IOException {
    return connectedTo != null ? channel.write(b) : channel.send(b, to);
  }

  @Override
  public void flush() {
    // Every write is sent at once.
  }

  @Override
  public void startReading() {
    synchronized (this) {
      if (readerStarted || !open) {
        return;
      }
      readerStarted = true;
    }
    role.startReader(name, this::runReader);
  }

  @Override
  public InetSocketAddress localAddress() {
    return local;
  }

  @Override
  public void close() {
    boolean reading;
    synchronized (this) {
      if (!open) {
        return;
      }
      open = false;
      reading = readerStarted;
    }
    if (reading) {
      selector.wakeup();
      role.wake(selector::wakeup);
    } else {
      closeChannel();
      endOnThisThread();
    }
  }

  /** Tells the handler the socket closed, and delivers what that queues, on this thread. */
  private void endOnThisThread() {
    stepper = Thread.currentThread();
    try {
      execute(handler::onClosed);
    } finally {
      stepper = null;
      closed.complete(null);
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void whenClosed(Runnable action) {
    closed.thenRun(action);
  }

  @Override
  public boolean awaitClosed(long timeoutMillis) {
    if (Thread.currentThread() == role.currentReader()) {
      return closed.isDone(); // the reader thread closes it, once this returns
    }
    try {
      closed.get(timeoutMillis, TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return closed.isDone();
    }
  }

  private void closeChannel() {
    lock.lock(); // no sender is inside channel.send while it closes
    try {
      selector.close();
      channel.close();
    } catch (IOException e) {
      owed.add(() -> handler.onError(e));
    } finally {
      endSection();
    }
  }

  // ------------------------------------------------------------------ reading

  private void runReader() {
    role.lock(); // held to the end, so that no inline receiver reads a closed channel
    try {
      try {
        while (open) {
          Thread.interrupted(); // a stray interrupt from deferred work would make every select return at once
          if (role.readerShouldStandAside()) {
            role.standAside(this::isOpen);
            continue;
          }
          step(0);
          if (!role.runDeferred()) {
            return; // replaced while running deferred work: the new reader thread carries on
          }
        }
      } catch (RuntimeException | Error e) {
        execute(() -> handler.onError(e));
        close();
      }
      if (!role.endDeferral()) {
        return;
      }
      closeChannel();
    } finally {
      role.unlockIfHeld();
    }
    endOnThisThread();
  }

  /**
   * Reads and handles one batch of datagrams, or waits for one (until the next timer, and at most
   * {@code maxWaitNanos} if positive). Called by the holder of the read role.
   */
  private void step(long maxWaitNanos) {
    stepper = Thread.currentThread();
    try {
      step0(maxWaitNanos);
    } finally {
      stepper = null;
    }
  }

  private void step0(long maxWaitNanos) {
    int got = 0;
    lock.lock();
    try {
      while (got < MAX_BATCH && open) {
        InetSocketAddress from = receive();
        if (from == null) {
          break;
        }
        got++;
        inRead = true;
        try {
          handler.onDatagram(received, from, System.nanoTime());
        } finally {
          inRead = false;
        }
        handler.onReadComplete(); // see the class comment: acknowledge as we go
      }
      runTimers(System.nanoTime());
    } finally {
      endSection();
    }
    if (got > 0 || !open) {
      return;
    }
    long wait;
    lock.lock();
    try {
      long now = System.nanoTime();
      runTimers(now);
      wait = waitNanos(now, maxWaitNanos);
      plannedWake = now + wait;
      waiting = true;
    } finally {
      endSection();
    }
    try {
      if (wait > 0 && open) {
        // In whole milliseconds, at least one: a timer due sooner runs up to a millisecond late.
        // Polling for it instead (parking 50 µs at a time) delayed the datagrams that came
        // meanwhile, and cost more than the lateness under 10% loss.
        selector.select(wait == Long.MAX_VALUE ? 0 : Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait + 999_999)));
        selector.selectedKeys().clear();
      }
    } catch (IOException | ClosedSelectorException e) {
      if (open) {
        execute(() -> handler.onError(e));
        close(); // a selector that fails cannot wait for datagrams any more
      }
    } finally {
      waiting = false;
    }
  }

  /** The next datagram into {@link #received}, and its sender; null if none is waiting. Under the lock. */
  private InetSocketAddress receive() {
    try {
      receiveBuffer.clear();
      InetSocketAddress from = (InetSocketAddress) channel.receive(receiveBuffer);
      if (from != null) {
        received.setIndex(0, receiveBuffer.position());
      }
      return from;
    } catch (ClosedChannelException e) {
      if (open) {
        handler.onError(e);
        close(); // the channel closed under us: the socket is gone
      }
      return null;
    } catch (IOException e) {
      handler.onError(e); // ICMP port unreachable on a connected socket, reported once
      return null;
    }
  }

  @Override
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    return role.receiveInline(
        done,
        timeoutNanos,
        this::isOpen,
        selector::wakeup,
        maxWait -> {
          step(maxWait);
          return open;
        },
        t -> {
          execute(() -> handler.onError(t));
          close();
        });
  }

  @Override
  public void wakeReceivers() {
    role.wake(selector::wakeup);
  }

  @Override
  public boolean inlineReceive() {
    return true;
  }

  @Override
  public String toString() {
    return name;
  }
}
