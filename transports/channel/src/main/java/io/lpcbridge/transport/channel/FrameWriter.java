package io.lpcbridge.transport.channel;

import static io.lpcbridge.transport.channel.Frames.HEADER_BYTES;

import io.lpcbridge.transport.WriteWatermark;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The sending half of a stream connection: the thread that sends writes the frame to the channel
 * itself, with no hand-off to another thread, and never blocks on a full channel.
 *
 * <h2>How a frame leaves</h2>
 *
 * <ol>
 *   <li>A sender that gets the write lock at once, finding nothing queued, writes header and
 *       payload with one gathering write, straight from the caller's buffer.
 *   <li>What the channel does not take is copied into {@link #outbound}, the channel is marked
 *       {@link #blocked} and the reader thread is woken to wait for it to become writable and
 *       finish the flush. While it is blocked, a sender that gets the lock tries one flush before
 *       queuing, so output does not depend on the reader thread alone (it may be busy in a
 *       handler); a sender that does not get the lock only queues.
 *   <li>A sender that cannot get the lock queues a copy on {@link #incoming} and leaves; the lock
 *       holder drains it before it unlocks. Under contention many messages thus leave in one
 *       gathering write.
 * </ol>
 *
 * The race where the holder checks {@code incoming} just before another thread queues is closed by
 * {@link #afterUnlock}: every thread, after unlocking or after queuing, flushes {@code incoming}
 * again if it is non-empty, the channel is not blocked and the lock is free. All three are
 * volatile reads, so in the synchronisation order either the holder sees the new frame or the
 * queuing thread sees the lock free (or the channel blocked, and the reader thread flushes).
 *
 * <h2>Backpressure</h2>
 *
 * The {@link WriteWatermark} counts bytes in both queues. Above {@code highWaterMark} the writer turns
 * unwritable; when it drains to half of that, {@code onWritable} runs once, on whichever thread
 * drained it, outside the lock (so the callback may send).
 */
final class FrameWriter {
  private static final int GATHER_LIMIT = 64;
  /** Queued copies are cut into pieces this large at most: far below any G1 region size's humongous threshold. */
  static final int COPY_CHUNK = 256 * 1024;

  private final StreamIo io;
  private final Runnable wakeReader;
  private final Runnable onWritable;

  private final ReentrantLock lock = new ReentrantLock();
  /** Frames queued by senders that did not get the lock. Multi-producer; drained under the lock. */
  private final ConcurrentLinkedQueue<ByteBuffer[]> incoming = new ConcurrentLinkedQueue<>();
  private final WriteWatermark watermark;
  /** The channel took less than offered; the reader thread finishes the flush. Written under lock. */
  private volatile boolean blocked;
  /** Nothing more goes out, in order or after a failure. Written under lock. */
  private volatile boolean shut;
  /** The first write error. Written under lock. */
  private volatile IOException failure;

  /** Frames, or the rest of a partly written frame first, in wire order. Guarded by lock. */
  private final ArrayDeque<ByteBuffer> outbound = new ArrayDeque<>();
  /** Guarded by lock. */
  private final ByteBuffer header = ByteBuffer.allocateDirect(HEADER_BYTES);
  /** Guarded by lock. */
  private final ByteBuffer[] pair = new ByteBuffer[2];
  /** Guarded by lock. */
  private final ByteBuffer[] gather = new ByteBuffer[GATHER_LIMIT];

  /**
   * @param wakeReader makes the reader thread wait for writability; called under the lock
   * @param onWritable the writer turned writable again; called outside the lock
   */
  FrameWriter(StreamIo io, int highWaterMark, Runnable wakeReader, Runnable onWritable) {
    this.io = io;
    this.watermark = new WriteWatermark(highWaterMark);
    this.wakeReader = wakeReader;
    this.onWritable = onWritable;
  }

  /**
   * Writes or queues {@code message} (position to limit, left as they were) as one frame.
   *
   * @return false if output is shut (closed or failed) and the message was dropped
   */
  boolean send(ByteBuffer message) {
    if (shut) {
      return false;
    }
    if (lock.tryLock()) {
      boolean accepted;
      try {
        accepted = sendLocked(message);
      } finally {
        lock.unlock();
      }
      afterUnlock();
      return accepted;
    }
    ByteBuffer[] frame = frameCopy(message, message.position(), message.remaining());
    incoming.offer(frame);
    queued(HEADER_BYTES + message.remaining());
    afterUnlock();
    // Output was shut after the final flush: if the frame is still here, nobody will write it.
    return !(shut && incoming.remove(frame));
  }

  private boolean sendLocked(ByteBuffer message) {
    if (shut) {
      return false;
    }
    int position = message.position();
    int length = message.remaining();
    try {
      // Even when blocked, try: the reader thread that would finish the flush may be busy in a handler.
      if (!flushLocked()) {
        // This sender's earlier frames may wait in incoming: they go first.
        moveIncoming();
        queueCopy(message, position, length, 0);
        return true;
      }
      header.putInt(0, length).clear();
      pair[0] = header;
      pair[1] = message;
      long written;
      try {
        written = io.write(pair, 0, 2);
      } finally {
        message.position(position);
        pair[1] = null;
      }
      long total = (long) HEADER_BYTES + length;
      if (written < total) {
        queueCopy(message, position, length, written);
        markBlocked();
      }
      return true;
    } catch (IOException e) {
      failLocked(e);
      return false;
    }
  }

  /**
   * Writes {@code incoming} and {@code outbound} until both are empty or the channel is full.
   *
   * @return true when everything queued is written
   */
  private boolean flushLocked() throws IOException {
    moveIncoming();
    while (!outbound.isEmpty()) {
      int count = 0;
      long offered = 0;
      for (ByteBuffer frame : outbound) {
        gather[count++] = frame;
        offered += frame.remaining();
        if (count == GATHER_LIMIT) {
          break;
        }
      }
      long written;
      try {
        written = io.write(gather, 0, count);
      } finally {
        java.util.Arrays.fill(gather, 0, count, null);
      }
      while (!outbound.isEmpty() && !outbound.peekFirst().hasRemaining()) {
        outbound.pollFirst();
      }
      watermark.sent(written);
      if (written < offered) {
        markBlocked();
        return false;
      }
      moveIncoming();
    }
    blocked = false;
    return true;
  }

  private void moveIncoming() {
    for (ByteBuffer[] frame; (frame = incoming.poll()) != null; ) {
      Collections.addAll(outbound, frame);
    }
  }

  private void markBlocked() {
    if (!blocked) {
      blocked = true;
      wakeReader.run();
    }
  }

  private void queued(int bytes) {
    // A drain racing with this is caught by maybeWritable() in afterUnlock().
    watermark.queued(bytes);
  }

  private void afterUnlock() {
    while (!incoming.isEmpty() && !blocked && !shut && lock.tryLock()) {
      try {
        if (!shut) {
          flushLocked();
        }
      } catch (IOException e) {
        failLocked(e);
      } finally {
        lock.unlock();
      }
    }
    maybeWritable();
  }

  private void maybeWritable() {
    if (!shut && watermark.becameWritable()) {
      onWritable.run();
    }
  }

  /**
   * Called by the reader thread when the channel may take more (or while it is busy reading and the
   * channel is blocked). Does nothing if another thread holds the lock: that thread flushes.
   */
  void flushFromReader() {
    if (!lock.tryLock()) {
      return;
    }
    try {
      if (!shut) {
        flushLocked();
      }
    } catch (IOException e) {
      failLocked(e);
    } finally {
      lock.unlock();
    }
    afterUnlock();
  }

  /**
   * For an orderly close: writes what is queued and, once everything is out, shuts the output down.
   *
   * @return true when output is shut (now or before)
   */
  boolean flushAndShutdown() throws IOException {
    lock.lock();
    try {
      if (shut) {
        return true;
      }
      if (!flushLocked()) {
        return false;
      }
      shut = true;
      io.shutdownOutput();
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops all output for good, dropping what is queued.
   *
   * @return the number of bytes dropped
   */
  long abandon() {
    lock.lock();
    try {
      shut = true;
      outbound.clear();
      incoming.clear();
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
    outbound.clear();
    wakeReader.run();
  }

  /** The first write error, or null. */
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

  /** Bytes queued, for tests and diagnostics. */
  long queuedBytes() {
    return watermark.queued();
  }

  /** Queues on {@link #outbound} a copy of the frame of {@code message} from its byte {@code skip} on, in {@link #chunk}s. */
  private void queueCopy(ByteBuffer message, int position, int length, long skip) {
    long total = (long) HEADER_BYTES + length;
    for (long at = skip; at < total; ) {
      ByteBuffer c = chunk(message, position, length, at);
      at += c.remaining();
      outbound.add(c);
    }
    queued((int) (total - skip));
  }

  /** The whole frame of {@code message}, copied in {@link #chunk}s, for {@link #incoming}. */
  private static ByteBuffer[] frameCopy(ByteBuffer message, int position, int length) {
    long total = (long) HEADER_BYTES + length;
    ByteBuffer[] chunks = new ByteBuffer[(int) ((total + COPY_CHUNK - 1) / COPY_CHUNK)];
    long at = 0;
    for (int i = 0; i < chunks.length; i++) {
      chunks[i] = chunk(message, position, length, at);
      at += chunks[i].remaining();
    }
    return chunks;
  }

  /**
   * A copy of the frame of {@code message} from its byte {@code at} on (the header's bytes count
   * first), at most {@link #COPY_CHUNK} bytes long: a large message the channel could not take
   * whole is not copied into one large array, which with G1 is a humongous allocation, and a
   * garbage collection every message or two.
   */
  private static ByteBuffer chunk(ByteBuffer message, int position, int length, long at) {
    ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(COPY_CHUNK, HEADER_BYTES + length - at));
    for (; at < HEADER_BYTES && chunk.hasRemaining(); at++) {
      chunk.put((byte) (length >>> (8 * (HEADER_BYTES - 1 - (int) at))));
    }
    chunk.put(chunk.position(), message, position + (int) (at - HEADER_BYTES), chunk.remaining());
    return chunk.clear();
  }
}
