package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import java.time.Duration;
import java.util.Set;

/**
 * Makes {@link Connection}s over channels of bounded datagrams ({@link DatagramIo}): Unix datagram
 * sockets, POSIX message queues. Messages larger than a datagram are fragmented and reassembled;
 * the layout is {@link Datagrams}', the behaviour {@link DatagramConnection}'s.
 */
public final class DatagramConnections {
  private DatagramConnections() {}

  /**
   * How a datagram connection behaves beyond the common options.
   *
   * @param keepAlive after this long with nothing received, probe the peer with a PING; {@link
   *     Duration#ZERO} when the channel itself reports the peer's death ({@link DatagramIo#PEER_GONE})
   * @param awaitPeerReady send nothing until the peer's READY datagram arrives (a server whose
   *     client is not yet connected to it); it must come within {@code connectTimeout}
   */
  public record Settings(
      String transportName,
      String localAddress,
      String remoteAddress,
      Set<Capability> capabilities,
      Duration keepAlive,
      boolean awaitPeerReady) {
    public Settings {
      capabilities = Set.copyOf(capabilities);
      if (keepAlive.isNegative()) {
        throw new IllegalArgumentException("keepAlive " + keepAlive + " is negative");
      }
    }
  }

  /**
   * Wraps {@code io} in a connection, not yet started; {@code io} belongs to it from now on.
   *
   * @param options the common options: {@code maxMessageSize}, {@code linger}, {@code
   *     writeHighWaterMark}, and {@code connectTimeout} (the wait for READY)
   * @throws IllegalArgumentException if {@code io}'s datagrams cannot hold a header and a byte
   */
  public static Connection create(DatagramIo io, TransportOptions options, Settings settings) {
    if (io.maxDatagramSize() <= Datagrams.HEADER_BYTES) {
      throw new IllegalArgumentException(
          "datagrams of " + io.maxDatagramSize() + " bytes cannot carry the " + Datagrams.HEADER_BYTES + "-byte header and data");
    }
    return new DatagramConnection(io, options, settings);
  }

  /** The READY datagram a client sends first where the server awaits it. */
  public static java.nio.ByteBuffer readyDatagram() {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocateDirect(Datagrams.HEADER_BYTES);
    b.put(Datagrams.TYPE_OFFSET, Datagrams.READY);
    return b;
  }

  /** Bytes of header in every datagram: fragments carry {@code maxDatagramSize} less this. */
  public static int headerBytes() {
    return Datagrams.HEADER_BYTES;
  }
}
