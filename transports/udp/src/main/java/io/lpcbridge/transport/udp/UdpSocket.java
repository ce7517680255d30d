package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.function.BooleanSupplier;

/**
 * One UDP socket under a {@link UdpClient} (connected to its server) or a {@link UdpListener}
 * (shared by every connection it accepted), and the thread discipline of the sessions on it. Two
 * engines implement it, chosen by the {@code io} option:
 *
 * <ul>
 *   <li>{@link NettyUdpSocket} (the default, {@code io=auto|epoll|nio}): a Netty datagram channel.
 *       The sessions run on its event loop; a send from another thread is handed to the loop.
 *   <li>{@link JdkUdpSocket} ({@code io=jdk}): a JDK {@code DatagramChannel} read by a thread of its
 *       own, or by a thread waiting for its reply ({@link #receiveInline}). The sessions run under
 *       the socket's lock on whichever thread holds it: a caller sends its own datagrams, and a
 *       handler runs on the thread that read its call. That saves the hand-offs to and from an
 *       event loop, two of which cost as much as the round trip itself on these machines.
 * </ul>
 *
 * <p>"In the loop" below means: on the event loop (Netty), or holding the socket's lock (JDK). All
 * {@link Handler} callbacks, timer tasks and {@link #execute} tasks run in the loop, one at a time.
 */
interface UdpSocket {
  /** What the socket reports. Every method is called in the loop. */
  interface Handler {
    /** A datagram from {@code sender}; {@code d} is valid until return. */
    void onDatagram(ByteBuf d, InetSocketAddress sender, long now);

    /** The end of a batch of {@link #onDatagram} calls. */
    void onReadComplete();

    /** A send or receive failed (ICMP port unreachable on a connected socket, a link down...). */
    void onError(Throwable cause);

    /** The socket closed; nothing more comes. */
    void onClosed();
  }

  /** A task scheduled with {@link #schedule}. */
  interface Timer {
    void cancel();
  }

  /** Whether the current thread is in the loop. */
  boolean inLoop();

  /**
   * Runs {@code task} in the loop: later on the event loop (Netty); now under the lock (JDK), or at
   * the end of the current section when the calling thread already holds it.
   */
  void execute(Runnable task);

  /** Runs {@code task} in the loop and waits for it, up to {@code timeoutMillis}. */
  void executeAndWait(Runnable task, long timeoutMillis);

  /** Runs {@code task} in the loop after {@code delayNanos}. Call in the loop. */
  Timer schedule(Runnable task, long delayNanos);

  /**
   * Runs a call into the layer above (a {@link io.lpcbridge.transport.MessageHandler} method). Call
   * in the loop. Netty runs it at once; JDK runs it once the lock is released, in the order given,
   * so that no lock is held while a handler runs (a handler may send on another socket, whose own
   * handler sends back on this one).
   */
  void upcall(Runnable call);

  /** Whether {@link #upcall} runs later, so that what it hands over must outlive the datagram. */
  boolean defersUpcalls();

  /** Whether the loop is running a batch of {@link Handler#onDatagram} calls on this thread now. */
  boolean inReadBatch();

  ByteBuf allocate(int capacity);

  /**
   * Sends (Netty: queues until {@link #flush}) a datagram to {@code to}, or to the connected peer
   * when null. Takes ownership. A failure is reported to {@link Handler#onError} later, never from
   * within this call. Call in the loop.
   */
  void write(ByteBuf datagram, InetSocketAddress to);

  /** Sends what {@link #write} queued. Call in the loop. */
  void flush();

  /** Starts reading (a listener's socket is bound with reading off). */
  void startReading();

  InetSocketAddress localAddress();

  /** Closes the socket; {@link Handler#onClosed} follows in the loop. Safe from any thread. */
  void close();

  boolean isOpen();

  /** Runs {@code action} once the socket has closed (at once if it has). */
  void whenClosed(Runnable action);

  /** Waits up to {@code timeoutMillis} for the socket to close; true if it has. */
  boolean awaitClosed(long timeoutMillis);

  /**
   * Reads the socket on the calling thread until {@code done} holds or the time is up, as {@link
   * io.lpcbridge.transport.Connection#receiveInline} describes; false if this engine does not (Netty).
   */
  default boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    return false;
  }

  /** Wakes threads in {@link #receiveInline}; see {@link io.lpcbridge.transport.Connection#wakeReceivers}. */
  default void wakeReceivers() {}

  /** Whether {@link #receiveInline} reads on the calling thread. */
  default boolean inlineReceive() {
    return false;
  }

  /** Opens a socket connected to {@code remote}, reading at once, for a client. */
  static UdpSocket connect(UdpSettings settings, InetSocketAddress remote, Handler handler, String what) throws IOException {
    return settings.jdk() ? JdkUdpSocket.connect(remote, handler, what) : NettyUdpSocket.connect(settings, remote, handler, what);
  }

  /** Opens a socket bound to {@code address}, not reading until {@link #startReading}, for a listener. */
  static UdpSocket bind(UdpSettings settings, InetSocketAddress address, Handler handler, String what) throws IOException {
    return settings.jdk() ? JdkUdpSocket.bind(address, handler, what) : NettyUdpSocket.bind(settings, address, handler, what);
  }
}
