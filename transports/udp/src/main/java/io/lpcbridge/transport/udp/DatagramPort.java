package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;

/**
 * The socket side of a {@link UdpConnection}: a client's own connected socket, or the listener's
 * socket shared by every connection it accepted. All methods are called in the socket's loop
 * ({@link UdpSocket}).
 *
 * <p>Writes are not flushed one by one: while the socket's read loop runs ({@link #inReadBatch()}),
 * connections that have something to send are marked and pumped once at the end of the batch, and
 * the socket is flushed once after them, so replies to a burst of datagrams leave in one batch.
 */
interface DatagramPort {
  UdpSocket socket();

  ByteBuf allocate(int capacity);

  /** Queues a datagram to the connection's peer; flushed by {@link #flush()}. Takes ownership. */
  void write(UdpConnection connection, ByteBuf datagram);

  /** Whether the socket's read loop is running on this thread now. */
  boolean inReadBatch();

  /** Asks for {@link UdpConnection#pump} at the end of the current read batch. */
  void pumpAfterReadBatch(UdpConnection connection);

  /** Flushes queued writes now, or at the end of the read batch if one is running. */
  void flush();

  /** The connection has ended and will send nothing more: forget it, release what it held. */
  void terminated(UdpConnection connection);
}
