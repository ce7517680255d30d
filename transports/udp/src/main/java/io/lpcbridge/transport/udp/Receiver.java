package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * The receiving half of a session: suppresses duplicates, holds chunks that arrive early, puts
 * messages back together and hands each one over exactly once, in order.
 *
 * <h2>Memory</h2>
 *
 * Only chunks with sequence numbers in {@code [cumulative, cumulative + window)} are kept; each is
 * at most one datagram, so early chunks cost at most {@code window * datagramSize}. The message
 * being reassembled grows with the data that actually arrived (doubling from {@link
 * #INITIAL_REASSEMBLY}), never beyond its announced length, which is checked against {@code
 * maxMessageSize} before a byte is kept. A chunk that completes a message on its own is handed
 * over in place, as a view of the datagram, without a copy.
 *
 * <h2>Errors</h2>
 *
 * A chunk that contradicts the message it belongs to (wrong offset, a different total length, a
 * total over {@code maxMessageSize}) can only come from a broken peer: {@link #accept} throws
 * {@link ProtocolException} and the session fails. Chunks that are merely stale or early are
 * reported in the {@link Outcome} and dropped or kept.
 *
 * <p>Not thread-safe; owned by one session.
 */
final class Receiver {
  static final int INITIAL_REASSEMBLY = 64 * 1024;

  /** What happened to a chunk. */
  enum Outcome {
    /** In order: processed (and its message handed over if complete), with any early chunks it unblocked. */
    IN_ORDER,
    /** Kept for later: it arrived early, or the connection is not started yet. */
    HELD,
    /** Already received: dropped. */
    DUPLICATE,
    /** Beyond the receive window (or after the FIN): dropped. */
    OUT_OF_WINDOW
  }

  /** Where complete messages go. May throw; the exception propagates out of {@link #accept}. */
  interface Sink {
    void onMessage(ByteBuffer message);
  }

  private record Held(byte[] data, int messageLength, int offset, boolean fin) {}

  private final int window;
  private final int maxMessageSize;
  private final String peer;
  private final SeqRing<Held> held;
  private final SackRanges ranges = new SackRanges();
  private long rcvNxt;
  private long finSeq = -1;

  private byte[] partial;
  private int partialLength = -1;
  private int partialFilled;

  Receiver(int window, int maxMessageSize, String peer) {
    this.window = window;
    this.maxMessageSize = maxMessageSize;
    this.peer = peer;
    this.held = new SeqRing<>(window);
  }

  /** The next sequence number expected: everything below it has been processed. */
  long cumulativeAck() {
    return rcvNxt;
  }

  int window() {
    return window;
  }

  /** Sequence numbers held above the cumulative point, for SACK blocks. */
  SackRanges ranges() {
    return ranges;
  }

  /** Whether the peer's FIN has been processed, in order, after all its messages. */
  boolean finReceived() {
    return finSeq >= 0;
  }

  /**
   * Takes one chunk whose structure the caller has checked ({@code offset + length <= messageLength},
   * data within the datagram).
   *
   * @param deliverable whether messages may be handed over now (the connection is started)
   * @throws ProtocolException when the chunk contradicts the stream
   */
  Outcome accept(
      long seq, int messageLength, int offset, int length, boolean fin, ByteBuf d, int dataIndex,
      boolean deliverable, Sink sink) throws ProtocolException {
    if (seq - rcvNxt < 0) {
      return Outcome.DUPLICATE;
    }
    if (seq - rcvNxt >= window || (finSeq >= 0 && seq > finSeq)) {
      return Outcome.OUT_OF_WINDOW;
    }
    if (ranges.contains(seq)) {
      return Outcome.DUPLICATE;
    }
    checkSize(messageLength);
    if (seq == rcvNxt && deliverable) {
      process(seq, messageLength, offset, fin, d.nioBuffer(dataIndex, length), sink);
      rcvNxt++;
      drain(sink);
      return Outcome.IN_ORDER;
    }
    byte[] copy = new byte[length];
    d.getBytes(dataIndex, copy);
    held.put(seq, new Held(copy, messageLength, offset, fin));
    ranges.add(seq);
    return Outcome.HELD;
  }

  /** Processes held chunks that are now in order. Call when the connection starts. */
  void drain(Sink sink) throws ProtocolException {
    Held h;
    while (finSeq < 0 && (h = held.remove(rcvNxt)) != null) {
      long seq = rcvNxt;
      process(seq, h.messageLength(), h.offset(), h.fin(), ByteBuffer.wrap(h.data()), sink);
      rcvNxt++;
    }
    held.advanceTo(rcvNxt);
    ranges.removeBelow(rcvNxt);
  }

  private void checkSize(int messageLength) throws ProtocolException {
    if (messageLength < 0 || messageLength > maxMessageSize) {
      throw new ProtocolException(
          "udp peer " + peer + " sent a message of " + Integer.toUnsignedString(messageLength)
              + " bytes, over this side's maxMessageSize " + maxMessageSize
              + " (set the transport option maxMessageSize to raise it)");
    }
  }

  private void process(long seq, int messageLength, int offset, boolean fin, ByteBuffer data, Receiver.Sink sink)
      throws ProtocolException {
    if (fin) {
      if (partialLength >= 0) {
        throw new ProtocolException(
            "udp peer " + peer + " finished (FIN at sequence " + seq + ") in the middle of a message of "
                + partialLength + " bytes, " + partialFilled + " received");
      }
      finSeq = seq;
      held.advanceTo(seq + 1 + window); // nothing can follow the FIN
      ranges.clear();
      return;
    }
    int length = data.remaining();
    if (partialLength < 0) {
      if (offset != 0) {
        throw new ProtocolException(
            "udp peer " + peer + " sent a chunk at offset " + offset + " of a " + messageLength
                + "-byte message that never started (sequence " + seq + ")");
      }
      if (length == messageLength) {
        sink.onMessage(data);
        return;
      }
      partialLength = messageLength;
      partial = new byte[Math.min(messageLength, INITIAL_REASSEMBLY)];
      partialFilled = 0;
    } else if (messageLength != partialLength || offset != partialFilled) {
      throw new ProtocolException(
          "udp peer " + peer + " sent a chunk at offset " + offset + " of a " + messageLength
              + "-byte message while reassembling a " + partialLength + "-byte message at offset "
              + partialFilled + " (sequence " + seq + ")");
    }
    if (partialFilled + length > partial.length) {
      int capacity = (int) Math.min(partialLength, Math.max(2L * partial.length, (long) partialFilled + length));
      partial = Arrays.copyOf(partial, capacity);
    }
    data.get(partial, partialFilled, length);
    partialFilled += length;
    if (partialFilled == partialLength) {
      ByteBuffer whole = ByteBuffer.wrap(partial, 0, partialFilled);
      partial = null;
      partialLength = -1;
      sink.onMessage(whole);
    }
  }

  /** Bytes held for reassembly and early chunks, for tests of the memory bound. */
  long heldBytes() {
    long bytes = partial == null ? 0 : partial.length;
    for (long s = rcvNxt; s - rcvNxt < window; s++) {
      Held h = held.get(s);
      if (h != null) {
        bytes += h.data().length;
      }
    }
    return bytes;
  }

  /** Drops everything held: the session is over. */
  void release() {
    partial = null;
    partialLength = -1;
    held.advanceTo(rcvNxt + window);
    ranges.clear();
  }
}
