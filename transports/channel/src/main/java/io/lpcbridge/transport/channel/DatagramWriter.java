package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.Datagrams.FIRST;
import static io.lpcbridge.transport.channel.Datagrams.HEADER_BYTES;
import static io.lpcbridge.transport.channel.Datagrams.LAST;

import io.lpcbridge.transport.WriteWatermark;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending half of a datagram connection: cuts messages into fragments ({@link Datagrams}) and
 * sends them on the sender's own thread; never waits for the channel.
 *
 * <p>Under one lock (held only for non-blocking sends): with nothing queued, a message's fragments
 * are built in a direct staging buffer and sent at once. The first fragment the channel refuses
 * stays in the staging buffer, the rest of the message is copied into {@link #queue}, the writer
 * is {@link #blocked} and the reader thread is woken to wait until the channel takes more and call
 * {@link #flush}. While anything is queued, new messages queue behind it, so fragments of two
 * messages never interleave and messages keep their order.
 *
 * <p>A writer may start {@linkplain #DatagramWriter gated}: everything queues until {@link
 * #ungate}, for a server that must not send before its client is connected.
 *
 * <p>Backpressure as in {@link FrameWriter}: the {@link WriteWatermark} above the high-water mark turns
 * the writer unwritable; draining to half of it calls {@code onWritable} once, outside the lock.
 */
final class DatagramWriter {
  private final DatagramIo io;
  private final int fragmentBytes;
  private final Runnable wakeReader;
  private final Runnable onWritable;

  private final ReentrantLock lock = new ReentrantLock();
  /** Guarded by lock. */
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  /** Guarded by lock. Holds a built datagram the channel refused when {@link #staged}. */
  private final ByteBuffer staging;
  /** Guarded by lock. */
  private boolean staged;
  /** Guarded by lock: payload bytes of the staged datagram, for the queue's byte count. */
  private int stagedPayload;
  /** Guarded by lock. */
  private boolean gated;
  private final WriteWatermark watermark;
  /** Written under lock. */
  private volatile boolean blocked;
  /** Written under lock. */
  private volatile boolean shut;
  /** Written under lock. */
  private volatile IOException failure;

  /** The part of a message not yet sent. */
  private static final class Pending {
    final ByteBuffer message;
    int next;
    boolean firstSent;

    Pending(ByteBuffer message, int next, boolean firstSent) {
      this.message = message;
      this.next = next;
      this.firstSent = firstSent;
    }

    boolean done() {
      return firstSent && next == message.capacity();
    }
  }

  DatagramWriter(DatagramIo io, int highWaterMark, boolean gated, Runnable wakeReader, Runnable onWritable) {
    this.io = io;
    this.fragmentBytes = io.maxDatagramSize() - HEADER_BYTES;
    this.watermark = new WriteWatermark(highWaterMark);
    this.gated = gated;
    this.wakeReader = wakeReader;
    this.onWritable = onWritable;
    this.staging = ByteBuffer.allocateDirect(io.maxDatagramSize());
  }

  /**
   * Sends or queues {@code message} (position to limit, left as they were).
   *
   * @return false if output is shut and the message was dropped
   */
  boolean send(ByteBuffer message) {
    if (shut) {
      return false;
    }
    lock.lock();
    try {
      if (shut) {
        return false;
      }
      if (!flushLocked()) {
        ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(0, message, message.position(), message.remaining());
        queue.add(new Pending(copy, 0, false));
        queued(copy.capacity());
        return true;
      }
      int position = message.position();
      int length = message.remaining();
      int offset = 0;
      do {
        int n = Math.min(fragmentBytes, length - offset);
        build(message, position, length, offset, n);
        offset += n;
        if (!io.send(staging)) {
          staged = true;
          stagedPayload = n;
          queued(n);
          if (offset < length) {
            ByteBuffer copy = ByteBuffer.allocate(length).put(0, message, position, length);
            queue.add(new Pending(copy, offset, true));
            queued(length - offset);
          }
          markBlocked();
          return true;
        }
      } while (offset < length);
      return true;
    } catch (IOException e) {
      failLocked(e);
      return false;
    } finally {
      lock.unlock();
      maybeWritable();
    }
  }

  /** Builds the fragment {@code [offset, offset+n)} of a message of {@code length} bytes in staging. */
  private void build(ByteBuffer message, int position, int length, int offset, int n) {
    byte flags = (byte) ((offset == 0 ? FIRST : 0) | (offset + n == length ? LAST : 0));
    staging.clear();
    staging.put(Datagrams.TYPE_OFFSET, Datagrams.DATA)
        .put(Datagrams.FLAGS_OFFSET, flags)
        .putShort(2, (short) 0)
        .putInt(Datagrams.VALUE_OFFSET, offset == 0 ? length : offset)
        .put(HEADER_BYTES, message, position + offset, n)
        .limit(HEADER_BYTES + n);
  }

  private void buildControl(byte type) {
    staging.clear();
    staging.putLong(0, 0L).put(Datagrams.TYPE_OFFSET, type).limit(HEADER_BYTES);
  }

  /**
   * Sends the staged datagram and the queue until the channel refuses one.
   *
   * @return true when nothing is left
   */
  private boolean flushLocked() throws IOException {
    if (gated) {
      return false;
    }
    if (staged) {
      if (!io.send(staging)) {
        markBlocked();
        return false;
      }
      staged = false;
      watermark.sent(stagedPayload);
    }
    for (Pending p; (p = queue.peekFirst()) != null; ) {
      int length = p.message.capacity();
      int n = Math.min(fragmentBytes, length - p.next);
      build(p.message, 0, length, p.next, n);
      p.next += n;
      p.firstSent = true;
      if (p.done()) {
        queue.pollFirst();
      }
      if (!io.send(staging)) {
        staged = true;
        stagedPayload = n;
        markBlocked();
        return false;
      }
      watermark.sent(n);
    }
    blocked = false;
    return true;
  }

  private void markBlocked() {
    if (!blocked) {
      blocked = true;
      wakeReader.run();
    }
  }

  private void queued(int bytes) {
    watermark.queued(bytes);
  }

  private void maybeWritable() {
    if (!shut && watermark.becameWritable()) {
      onWritable.run();
    }
  }

  /** The reader thread saw the channel writable (or READY arrive): sends what is queued. */
  void flush() {
    lock.lock();
    try {
      if (!shut) {
        flushLocked();
      }
    } catch (IOException e) {
      failLocked(e);
    } finally {
      lock.unlock();
      maybeWritable();
    }
  }

  /** Lets queued and further messages out: the peer is ready. */
  void ungate() {
    lock.lock();
    try {
      gated = false;
    } finally {
      lock.unlock();
    }
    flush();
  }

  /**
   * A liveness probe, unless the writer is blocked (then the peer is known to hold our datagrams;
   * a dead peer's channel drains and the flush fails instead).
   *
   * @throws IOException when the channel says the peer is gone
   */
  void ping() throws IOException {
    lock.lock();
    try {
      if (shut || gated || blocked || staged || !queue.isEmpty()) {
        return;
      }
      buildControl(Datagrams.PING);
      io.send(staging);
    } catch (IOException e) {
      failLocked(e);
      throw e;
    } finally {
      lock.unlock();
    }
  }

  /**
   * For an orderly close: sends what is queued, then BYE, then shuts output.
   *
   * @return true when output is shut (now or before)
   */
  boolean flushAndBye() throws IOException {
    lock.lock();
    try {
      if (shut) {
        return true;
      }
      gated = false; // A server closing before its client was ready still owes it a BYE.
      if (!flushLocked()) {
        return false;
      }
      buildControl(Datagrams.BYE);
      if (!io.send(staging)) {
        markBlocked();
        return false;
      }
      shut = true;
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * After a failure: drops what is queued and makes one attempt to tell the peer with BYE.
   *
   * @return the number of bytes dropped
   */
  long abandon(boolean sayBye) {
    lock.lock();
    try {
      boolean wasShut = shut;
      shut = true;
      queue.clear();
      staged = false;
      if (sayBye && !wasShut) {
        try {
          buildControl(Datagrams.BYE);
          io.send(staging);
        } catch (IOException e) {
          // The peer is gone or the channel broken: nobody to tell.
        }
      }
      return watermark.clear();
    } finally {
      lock.unlock();
    }
  }

  private void failLocked(IOException e) {
    if (failure == null) {
      failure = e;
    }
    shut = true;
    queue.clear();
    staged = false;
    wakeReader.run();
  }

  IOException failure() {
    return failure;
  }

  /** Whether the reader thread should wait for the channel to become writable. */
  boolean isBlocked() {
    return blocked && !shut;
  }

  boolean isWritable() {
    return watermark.isWritable() && !shut;
  }

  long queuedBytes() {
    return watermark.queued();
  }
}
