package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.util.Optional;
import java.util.Set;

/**
 * Makes {@link Connection}s of length-prefixed messages (the framing of {@link
 * ChannelConnections}) over plain file descriptors: a pair of pipes or FIFOs, one per direction,
 * or one stream socket both ways. For the pipe, FIFO and socketpair transports.
 */
public final class FdConnections {
  private FdConnections() {}

  /**
   * Wraps the descriptors in a connection, not yet started. They are switched to non-blocking mode
   * and belong to the connection from now on (closed by it, or here if setting up fails).
   *
   * @param inFd the descriptor to read from
   * @param outFd the descriptor to write to; {@code inFd} itself for a socket. An orderly close
   *     closes it (pipes, FIFOs) or shuts its output down (a socket), so the peer reads end of file.
   *     A pipe or FIFO gets the kernel buffer the option {@link PipeBuffers#OPTION} asks for.
   */
  public static Connection create(
      int inFd,
      int outFd,
      TransportOptions options,
      String transportName,
      String localAddress,
      String remoteAddress,
      Set<Capability> capabilities)
      throws IOException {
    StreamIo io;
    try {
      int pipeSize = PipeBuffers.requested(options);
      FdStreamIo fdIo = new FdStreamIo(inFd, outFd);
      fdIo.growOutputPipe(pipeSize);
      io = fdIo;
    } catch (IOException | RuntimeException e) {
      Fds.closeQuietly(inFd);
      if (outFd != inFd) {
        Fds.closeQuietly(outFd);
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
        Optional.empty());
  }
}
