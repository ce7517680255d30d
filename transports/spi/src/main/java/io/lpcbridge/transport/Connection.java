package io.lpcbridge.transport;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A reliable, ordered, bidirectional channel of whole messages between two processes: the only
 * thing the RPC layer sees of a transport.
 *
 * <h2>Contract</h2>
 *
 * <ul>
 *   <li><b>Whole messages.</b> Each {@link #send} is delivered to the peer's {@link
 *       MessageHandler#onMessage} exactly once, as one message, in order, or the connection fails.
 *       Fragmentation, reassembly and retransmission are the transport's job.
 *   <li><b>Sizes.</b> Messages from 0 bytes up to {@link #maxMessageSize()} are carried; a larger
 *       one is refused by {@code send} with {@link MessageTooLargeException}. A peer that announces
 *       a larger one fails the connection with a message naming both sizes.
 *   <li><b>Backpressure.</b> {@code send} never blocks for long: what the channel cannot take at
 *       once is queued by the transport. {@link #isWritable()} turns false once the queue passes a
 *       high-water mark and {@link MessageHandler#onWritable()} follows once it drains. Senders that
 *       respect it keep memory bounded. A receiver that is slow in {@code onMessage} stops the
 *       transport from reading, so the queue on the sending side fills.
 *   <li><b>Failure.</b> When the peer dies, or closes, {@link MessageHandler#onClosed} follows
 *       promptly (within the transport's documented liveness bound).
 * </ul>
 *
 * <h2>Lifecycle</h2>
 *
 * {@link #start} is called exactly once, before any {@code send}; {@link #close()} may be called
 * any number of times from any thread, and {@link MessageHandler#onClosed} is called once in the
 * end, whichever side closed. A connection produced by a {@link Listener} is not started: its
 * acceptor starts it.
 *
 * <h2>Threading</h2>
 *
 * {@code send}, {@code isWritable} and {@code close} are safe from any thread. Messages sent by one
 * thread arrive in the order sent; messages from different threads are never interleaved.
 *
 * <h2>Receiving on the waiting thread</h2>
 *
 * A transport may let a thread that is about to wait for a reply receive it itself ({@link
 * #receiveInline}), so that the reply needs no hand-off from the transport's reader thread to the
 * waiting one: on a two-process round trip that hand-off (a futex wake-up and a context switch)
 * costs as much as the transport itself. The reader thread stands aside meanwhile and for a short
 * grace period after, so that a thread making one blocking call after another keeps the role;
 * {@link #wakeReceivers()} ends the grace period at once.
 */
public interface Connection {

  /**
   * Starts delivering received messages to {@code handler}. Called exactly once.
   *
   * @throws IllegalStateException when called a second time
   */
  void start(MessageHandler handler);

  /**
   * Sends one message: the bytes between the buffer's position and limit. The transport has copied
   * or written them by the time this returns, so the caller may reuse the buffer; the buffer's
   * position and limit are left as they were.
   *
   * @return true if the message was accepted; false if the connection is closing or closed, in
   *     which case the message is dropped and {@link MessageHandler#onClosed} has been or will be
   *     called
   * @throws MessageTooLargeException if the message is larger than {@link #maxMessageSize()}
   */
  boolean send(ByteBuffer message);

  /**
   * Whether a sender should go on sending. Advisory: {@code send} accepts messages either way, but
   * a sender that ignores it lets the transport's queue grow without bound.
   */
  boolean isWritable();

  /**
   * Closes the connection in order: messages already accepted by {@code send} are written first
   * (for at most the transport's linger time), then the peer sees an orderly close. Idempotent.
   * Messages the peer sends after this may be delivered until {@link MessageHandler#onClosed} or
   * dropped, depending on whether the transport can half-close; a protocol that needs them must
   * finish its exchange before closing.
   */
  void close();

  /** Whether the connection is neither closing nor closed. */
  boolean isOpen();

  /** The largest message {@link #send} accepts, and the largest this side accepts from the peer. */
  int maxMessageSize();

  /** What the transport does natively. */
  Set<Capability> capabilities();

  /** This end's address, for logs and {@code bridge} output. */
  String localAddress();

  /** The peer's address, for logs, error messages and the server call's attributes. */
  String remoteAddress();

  /**
   * Receives on the calling thread: reads and runs {@link MessageHandler#onMessage} here, for
   * whatever arrives, until {@code done} holds, {@code timeoutNanos} pass, the connection stops
   * being open, or {@link #wakeReceivers()} is called from another thread. Meanwhile the
   * transport's reader thread reads nothing; messages are still delivered one at a time and in
   * order. {@code done} is checked after each message and after each wake-up.
   *
   * <p>On return without {@code done}, the reader thread takes over again at once. On return with
   * {@code done}, it stays aside for the transport's grace period (well under a millisecond to a
   * few milliseconds), unless {@link #wakeReceivers()} is called: a caller that leaves other
   * traffic expected must call it.
   *
   * @return false when nothing was done because the transport cannot receive inline, or not now:
   *     the connection is not open, or the calling thread is already delivering this connection's
   *     messages (a reader thread, or a handler called from an inline receive). The default
   *     returns false.
   */
  default boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    return false;
  }

  /**
   * Wakes a thread in {@link #receiveInline} so that it re-checks its condition, and brings the
   * reader thread back if it stood aside. Safe from any thread; cheap when there is nobody to wake.
   */
  default void wakeReceivers() {}

  /** The peer's credentials where the transport has {@link Capability#PEER_CREDENTIALS}. */
  default Optional<PeerCredentials> peerCredentials() {
    return Optional.empty();
  }
}
