package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.Optional;
import java.util.Set;

/**
 * Makes {@link Connection}s of length-prefixed messages over connected stream sockets, for the
 * stream transports (unix, socketpair, …). The framing, threading and backpressure are described
 * on the connection class; see {@link Connection} for the contract.
 *
 * <p>Latency is the point: a message is written to the socket by the thread that sends it and
 * handed to {@link io.lpcbridge.transport.MessageHandler#onMessage} by the thread that reads it,
 * with no thread hop in between.
 */
public final class ChannelConnections {
  private ChannelConnections() {}

  /**
   * Wraps a connected socket channel (JDK or junixsocket) in a connection, not yet started. The
   * channel is switched to non-blocking mode and belongs to the connection from now on.
   *
   * @param options the common options: {@code maxMessageSize}, {@code linger}, {@code
   *     writeHighWaterMark}
   * @param transportName the transport's name, for thread names and messages
   * @param localAddress this end's address, for logs
   * @param remoteAddress the peer's address, for logs and error messages
   * @throws IOException if the channel cannot be set up; it is then closed
   */
  public static Connection create(
      SocketChannel channel,
      TransportOptions options,
      String transportName,
      String localAddress,
      String remoteAddress,
      Set<Capability> capabilities,
      Optional<PeerCredentials> peerCredentials)
      throws IOException {
    StreamIo io;
    try {
      io = SelectorStreamIo.forSocket(channel);
    } catch (IOException | RuntimeException e) {
      try {
        channel.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return new StreamConnection(
        io,
        options,
        FrameDecoder.DEFAULT_INITIAL_CAPACITY,
        transportName,
        localAddress,
        remoteAddress,
        capabilities,
        peerCredentials);
  }
}
