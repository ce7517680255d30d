package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.nativeio.WakePipe;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * {@link StreamIo} over plain file descriptors (pipes, FIFOs, a socket from {@code socketpair} or
 * inherited from a parent), waiting with {@code poll(2)} through FFM ({@link Fds}): what NIO cannot
 * do, since it offers no selectable channel for an arbitrary descriptor.
 *
 * <p>Reads and writes go straight between the kernel and the caller's buffers, heap or direct
 * ({@link Fds#read}/{@link Fds#write} are critical downcalls on non-blocking descriptors). A write of
 * several buffers is one {@code writev} when they are all direct, else they are staged into one
 * direct buffer so a header and its payload still leave in one system call and wake the peer once.
 * {@link #wakeup} writes to a {@link WakePipe} that is part of every poll.
 */
final class FdStreamIo implements StreamIo {
  private static final int STAGING_BYTES = 64 * 1024;
  private static final int IOV_MAX_USED = 64;

  private final int in;
  private final int out;
  /** One descriptor both ways: a socket, whose output is shut with shutdown(2), not close(2). */
  private final boolean duplex;
  private final WakePipe wake;
  /** Entries: 0 input, 1 output (unused when duplex), 2 the wake pipe. Reader thread only. */
  private final Fds.PollSet pollSet = new Fds.PollSet(3);
  /** Used under the caller's write serialisation. */
  private final ByteBuffer staging = ByteBuffer.allocateDirect(STAGING_BYTES);
  private final MemorySegment iovecs = Arena.ofAuto().allocate((long) IOV_MAX_USED * Fds.IOVEC_BYTES, 8);
  /** Written under the caller's write serialisation; read by close(). */
  private volatile boolean outputClosed;
  /** Kernel buffer this connection's output pipe gained ({@link PipeBuffers}), given back on close. */
  private long pipeGrowth;

  /**
   * Takes ownership of {@code in} and {@code out} (which may be one socket) and makes them
   * non-blocking.
   */
  FdStreamIo(int in, int out) throws IOException {
    this.in = in;
    this.out = out;
    this.duplex = in == out;
    if (duplex && !Fds.status(in).isSocket()) {
      throw new IllegalArgumentException("fd " + in + " is used both ways but is not a socket");
    }
    Fds.setNonBlocking(in, true);
    if (!duplex) {
      Fds.setNonBlocking(out, true);
    }
    this.wake = new WakePipe();
    pollSet.set(2, wake.readFd(), Fds.POLLIN);
  }

  /** Grows the output pipe's kernel buffer towards {@code size} bytes, once; a socket's is left. */
  void growOutputPipe(int size) {
    if (!duplex) {
      pipeGrowth = PipeBuffers.grow(out, size);
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (!dst.hasRemaining()) {
      return 0;
    }
    int n = Fds.read(in, dst);
    if (n == Fds.WOULD_BLOCK) {
      return 0;
    }
    return n == 0 ? -1 : n;
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    int nonEmpty = 0;
    int only = -1;
    boolean allDirect = true;
    for (int i = offset; i < offset + length; i++) {
      if (srcs[i].hasRemaining()) {
        nonEmpty++;
        only = i;
        allDirect &= srcs[i].isDirect();
      }
    }
    if (nonEmpty == 0) {
      return 0;
    }
    if (nonEmpty == 1) {
      return Fds.write(out, srcs[only]);
    }
    if (allDirect && length <= IOV_MAX_USED) {
      return Fds.writev(out, srcs, offset, length, iovecs);
    }
    return writeStaged(srcs, offset, offset + length);
  }

  private long writeStaged(ByteBuffer[] srcs, int first, int end) throws NativeException {
    long total = 0;
    int i = first;
    while (true) {
      while (i < end && !srcs[i].hasRemaining()) {
        i++;
      }
      if (i == end) {
        return total;
      }
      staging.clear();
      for (int j = i; j < end && staging.hasRemaining(); j++) {
        ByteBuffer src = srcs[j];
        int n = Math.min(src.remaining(), staging.remaining());
        staging.put(staging.position(), src, src.position(), n);
        staging.position(staging.position() + n);
      }
      staging.flip();
      int staged = staging.remaining();
      int written = Fds.write(out, staging);
      total += written;
      long left = written;
      for (int j = i; left > 0; j++) {
        int n = (int) Math.min(srcs[j].remaining(), left);
        srcs[j].position(srcs[j].position() + n);
        left -= n;
      }
      if (written < staged) {
        return total;
      }
    }
  }

  @Override
  public int await(boolean read, boolean write, long timeoutMillis) throws IOException {
    if (duplex) {
      short events = (short) ((read ? Fds.POLLIN : 0) | (write ? Fds.POLLOUT : 0));
      pollSet.set(0, in, events);
    } else {
      // A descriptor left in the set reports POLLHUP/POLLERR whether asked or not: leave out what
      // is not wanted, or a finished input would make every wait return at once.
      pollSet.set(0, read ? in : -1, Fds.POLLIN);
      pollSet.set(1, write && !outputClosed ? out : -1, Fds.POLLOUT);
    }
    int timeout = timeoutMillis <= 0 ? -1 : (int) Math.min(timeoutMillis, Integer.MAX_VALUE);
    if (pollSet.poll(timeout) == 0) {
      return 0;
    }
    int ready = 0;
    short r0 = pollSet.revents(0);
    if (duplex) {
      if ((r0 & (Fds.POLLIN | Fds.POLLHUP | Fds.POLLERR)) != 0 && read) {
        ready |= READABLE;
      }
      if ((r0 & (Fds.POLLOUT | Fds.POLLHUP | Fds.POLLERR)) != 0 && write) {
        ready |= WRITABLE;
      }
    } else {
      if ((r0 & (Fds.POLLIN | Fds.POLLHUP | Fds.POLLERR)) != 0) {
        ready |= READABLE;
      }
      if ((pollSet.revents(1) & (Fds.POLLOUT | Fds.POLLHUP | Fds.POLLERR)) != 0) {
        ready |= WRITABLE;
      }
    }
    if ((pollSet.revents(2) & Fds.POLLIN) != 0) {
      wake.drain();
    }
    return ready;
  }

  @Override
  public void wakeup() {
    wake.wake();
  }

  @Override
  public void shutdownOutput() throws IOException {
    if (duplex) {
      Fds.shutdownOutput(out);
    } else if (!outputClosed) {
      outputClosed = true;
      releasePipe();
      Fds.close(out);
    }
  }

  private synchronized void releasePipe() {
    PipeBuffers.release(pipeGrowth);
    pipeGrowth = 0;
  }

  @Override
  public void close() throws IOException {
    wake.close();
    if (!duplex && !outputClosed) {
      outputClosed = true;
      Fds.closeQuietly(out);
    }
    releasePipe();
    Fds.close(in);
  }
}
