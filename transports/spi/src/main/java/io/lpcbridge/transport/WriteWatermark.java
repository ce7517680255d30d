package io.lpcbridge.transport;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A connection's outbound backpressure, as {@link Connection#isWritable} and {@link
 * MessageHandler#onWritable} promise it: bytes queued above {@code writeHighWaterMark} turn the
 * connection unwritable, and draining to half of that turns it writable again, once. Thread-safe;
 * for transport implementations.
 *
 * <p>A sender that queues concurrently with a drain may turn the flag off just after the drainer
 * looked: whoever queues or drains therefore calls {@link #becameWritable} afterwards, as the
 * writers here do once they release their lock.
 */
public final class WriteWatermark {
  private final long highWaterMark;
  private final AtomicLong queued = new AtomicLong();
  private final AtomicBoolean writable = new AtomicBoolean(true);

  public WriteWatermark(long highWaterMark) {
    this.highWaterMark = highWaterMark;
  }

  /** {@code bytes} were queued; above the high-water mark the connection turns unwritable. */
  public void queued(long bytes) {
    if (queued.addAndGet(bytes) > highWaterMark) {
      writable.set(false);
    }
  }

  /** {@code bytes} of what was queued left. */
  public void sent(long bytes) {
    queued.addAndGet(-bytes);
  }

  /**
   * True, once, when the connection was unwritable and has drained to half the high-water mark:
   * the caller then tells the handler ({@code onWritable}).
   */
  public boolean becameWritable() {
    return !writable.get() && queued.get() <= highWaterMark / 2 && writable.compareAndSet(false, true);
  }

  public boolean isWritable() {
    return writable.get();
  }

  /** Bytes queued now. */
  public long queued() {
    return queued.get();
  }

  /** Forgets everything queued (the connection is closing); returns how much that was. */
  public long clear() {
    return queued.getAndSet(0);
  }
}
