package io.lpcbridge.transport.channel;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Non-blocking byte I/O under a stream connection: the only thing {@link StreamConnection} knows of
 * the channel. {@link SelectorStreamIo} implements it over NIO channels; a poll()-based FFM
 * implementation over raw file descriptors (pipes, FIFOs) can be added beside it without touching
 * the framing.
 *
 * <h2>Threading</h2>
 *
 * {@link #read} and {@link #await} are called by the connection's reader thread only. {@link #write}
 * and {@link #shutdownOutput} are called by one thread at a time (the connection's write lock
 * serialises them) but from any thread. {@link #wakeup} is safe from any thread. {@link #close} is
 * called once, by the reader thread, or by the thread that closes a connection that was never
 * started.
 */
interface StreamIo extends Closeable {
  /** Bit in the result of {@link #await}. */
  int READABLE = 1;
  /** Bit in the result of {@link #await}. */
  int WRITABLE = 2;

  /**
   * Reads what is available into {@code dst} without blocking.
   *
   * @return bytes read, 0 if nothing is available now, -1 at end of stream
   */
  int read(ByteBuffer dst) throws IOException;

  /**
   * Writes {@code srcs[offset .. offset+length)} in order without blocking, advancing their
   * positions. Writes as much as the channel takes: fewer bytes than offered means the channel is
   * full.
   */
  long write(ByteBuffer[] srcs, int offset, int length) throws IOException;

  /**
   * Blocks until the channel is readable (if {@code read}), writable (if {@code write}), {@link
   * #wakeup} is called, or {@code timeoutMillis} pass ({@code 0}: no timeout).
   *
   * @return {@link #READABLE} and/or {@link #WRITABLE}, or 0 when woken or timed out
   */
  int await(boolean read, boolean write, long timeoutMillis) throws IOException;

  /** Makes a current or the next {@link #await} return at once. */
  void wakeup();

  /** Tells the peer no more bytes follow, keeping the input open. */
  void shutdownOutput() throws IOException;
}
