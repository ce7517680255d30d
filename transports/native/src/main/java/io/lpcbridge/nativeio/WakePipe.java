package io.lpcbridge.nativeio;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A self-pipe that wakes a thread blocked in {@link Fds.PollSet#poll}: its read end goes in the
 * poll set, and {@link #wake} writes one byte to the write end.
 *
 * <p>{@link #wake} is safe from any thread, any time, including after {@link #close}: a descriptor
 * number is reused by the kernel as soon as it is closed, so writing to a closed pipe's number
 * could put a byte into some unrelated file. {@code wake} and {@code close} therefore exclude each
 * other. At most one byte is pending at a time, so the pipe never fills.
 */
public final class WakePipe implements AutoCloseable {
  private final int readFd;
  private final int writeFd;
  private final AtomicBoolean pending = new AtomicBoolean();
  private final ByteBuffer one = ByteBuffer.allocateDirect(1);
  private final ByteBuffer drain = ByteBuffer.allocateDirect(64);
  /** Guarded by this. */
  private boolean closed;

  public WakePipe() throws NativeException {
    int[] fds = Fds.pipe(Fds.O_NONBLOCK);
    this.readFd = fds[0];
    this.writeFd = fds[1];
  }

  /** The end to poll for {@link Fds#POLLIN}. */
  public int readFd() {
    return readFd;
  }

  /** Makes the current or next poll that includes {@link #readFd()} return. */
  public void wake() {
    if (!pending.compareAndSet(false, true)) {
      return;
    }
    synchronized (this) {
      if (closed) {
        return;
      }
      try {
        one.clear();
        Fds.write(writeFd, one);
      } catch (NativeException e) {
        // Only possible if the read end is gone, i.e. closing: nobody waits any more.
      }
    }
  }

  /**
   * Empties the pipe after a poll reported it readable; call from the polling thread only, which
   * then re-checks whatever it waits for.
   *
   * <p>The pipe is emptied first and the pending flag cleared after. The other order lost wake-ups:
   * a {@link #wake} between clearing and reading wrote a byte that the read then swallowed, leaving
   * the flag set with nothing in the pipe, so that every later wake returned without writing and
   * the poller slept through them all. In this order a wake between reading and clearing writes
   * nothing, which is harmless: the poller is already awake and re-checks after this returns.
   */
  public void drain() {
    try {
      while (true) {
        drain.clear();
        int n = Fds.read(readFd, drain);
        if (n <= 0) {
          break;
        }
      }
    } catch (NativeException e) {
      // Closed under us: nothing to drain.
    }
    pending.set(false);
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    Fds.closeQuietly(writeFd);
    Fds.closeQuietly(readFd);
  }
}
