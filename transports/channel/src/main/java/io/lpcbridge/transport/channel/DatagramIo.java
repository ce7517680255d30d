package io.lpcbridge.transport.channel;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Non-blocking I/O of whole datagrams under a datagram connection ({@link DatagramConnections}):
 * a connected Unix datagram socket, a pair of POSIX message queues. The channel keeps datagram
 * boundaries, delivers in order and never drops (a full channel refuses a send instead); the
 * connection adds fragmentation, reassembly, backpressure, liveness and an orderly close.
 *
 * <h2>Threading</h2>
 *
 * {@link #receive} and {@link #await} are called by the connection's reader thread only; {@link
 * #send} by one thread at a time (the connection's write lock serialises it), concurrently with
 * them. {@link #wakeup} is safe from any thread at any time, also after {@link #close}. {@link
 * #close} is called once.
 */
public interface DatagramIo extends Closeable {
  /** Bit in the result of {@link #await}. */
  int READABLE = 1;
  /** Bit in the result of {@link #await}. */
  int WRITABLE = 2;
  /** Bit in the result of {@link #await}: the peer is known to be gone ({@link #peerGoneReason}). */
  int PEER_GONE = 4;

  /** The largest datagram {@link #send} takes and {@link #receive} returns, header included. */
  int maxDatagramSize();

  /**
   * Receives one datagram into {@code dst} (cleared, with capacity above {@link
   * #maxDatagramSize()}), without blocking. A datagram longer than {@code maxDatagramSize()} may be
   * reported by its true length or as {@code maxDatagramSize() + 1}; either way the connection
   * fails it.
   *
   * @return the datagram's length, or -1 when none is waiting
   */
  int receive(ByteBuffer dst) throws IOException;

  /**
   * Sends {@code datagram} (position to limit) whole, without blocking.
   *
   * @return false when the channel is full now; nothing was sent
   * @throws IOException when the peer is gone or the channel failed; the message says which
   */
  boolean send(ByteBuffer datagram) throws IOException;

  /**
   * Blocks until the channel is readable (if {@code read}), writable (if {@code write}), the peer
   * is gone, {@link #wakeup} is called, or {@code timeoutMillis} pass ({@code 0}: no timeout).
   *
   * @return {@link #READABLE}, {@link #WRITABLE} and/or {@link #PEER_GONE}, or 0
   */
  int await(boolean read, boolean write, long timeoutMillis) throws IOException;

  /** Makes a current or the next {@link #await} return at once. */
  void wakeup();

  /** Why {@link #await} reported {@link #PEER_GONE}, for the connection's close cause. */
  default String peerGoneReason() {
    return "the peer is gone";
  }
}
