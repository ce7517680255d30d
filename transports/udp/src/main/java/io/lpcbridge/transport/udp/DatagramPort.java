package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;

/**
 * What a {@link UdpConnection} needs from its owner beyond the socket itself: a client (its own
 * connected socket) or a listener (a socket shared by every connection it accepted). All methods
 * are called in the socket's loop ({@link UdpSocket}).
 *
 * <p>Writes are not flushed one by one: while the socket's read loop runs ({@link
 * UdpSocket#inReadBatch()}), connections that have something to send are marked and pumped once at
 * the end of the batch, and the socket is flushed once after them, so replies to a burst of
 * datagrams leave in one batch.
 */
interface DatagramPort {
  UdpSocket socket();

  /** Queues a datagram to the connection's peer; flushed by {@link UdpSocket#flush()}. Takes ownership. */
  void write(UdpConnection connection, ByteBuf datagram);

  /** Asks for {@link UdpConnection#pump} at the end of the current read batch. */
  void pumpAfterReadBatch(UdpConnection connection);

  /** The connection has ended and will send nothing more: forget it, release what it held. */
  void terminated(UdpConnection connection);
}
