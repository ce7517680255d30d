package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.PriorityQueue;

/**
 * The sending half of a session: cuts queued messages into chunks, numbers them, keeps them until
 * they are acknowledged, and decides what to send next.
 *
 * <ul>
 *   <li><b>Acknowledgements.</b> A cumulative ack releases every chunk below it; SACK blocks mark
 *       chunks above it as received, so they are never sent again.
 *   <li><b>Loss detection</b> (RFC 9002 section 6.1, on chunk sequence numbers with a local
 *       transmission order in place of QUIC's packet numbers): a chunk is lost once a chunk sent
 *       {@link #PACKET_THRESHOLD} transmissions later is acknowledged (fast retransmit), or once a
 *       later one is acknowledged and 9/8 of the round trip has passed since it was sent. Lost
 *       chunks are sent again before new ones, lowest sequence number first.
 *   <li><b>Tail loss probe</b> (RFC 9002 section 6.2): when nothing is acknowledged for a probe
 *       timeout, PTO = SRTT + max(4 RTTVAR, G) + the peer's ack delay, doubling with each probe
 *       unanswered, the oldest chunk in flight is sent again, past the congestion window, to draw an
 *       acknowledgement that lets loss detection find what else was lost. It costs one datagram and
 *       no window reduction; it turns a lost tail (the last chunks of a burst, a lone request) from
 *       a timeout into a fast retransmit.
 *   <li><b>Retransmission timeout</b> ({@link RttEstimator}): armed while anything is in flight,
 *       restarted when new data is acknowledged; on expiry every chunk in flight is declared lost,
 *       the timer backs off and the congestion window collapses. With probes ahead of it, it fires
 *       when the path is really silent.
 *   <li><b>Windows.</b> A chunk is sent only while the bytes in flight are below the congestion
 *       window ({@link CongestionControl}), and a new chunk only while its sequence number is within
 *       the peer's receive window above the oldest unacknowledged one.
 * </ul>
 *
 * Every chunk carries the total length of its message and its offset, so the receiver can check
 * each one against the message it belongs to. Not thread-safe; owned by one session.
 */
final class Sender {
  /** A chunk sent this many transmissions after an unacknowledged one, once acknowledged, makes it lost. */
  static final int PACKET_THRESHOLD = 3;
  /** SACK blocks a datagram that carries chunks reserves room for. */
  static final int PIGGYBACK_SACK_BLOCKS = 4;
  /** A message that does not fit in what is left of a datagram is split only if at least this much is left. */
  static final int MIN_SPLIT = 128;
  static final long NONE = Long.MAX_VALUE;

  /** One chunk: part of a message, or the FIN. */
  static final class Segment {
    final long seq;
    final byte[] message;
    final int offset;
    final int length;
    final boolean fin;
    long txTime;
    long txOrder;
    int txCount;
    boolean inFlight;
    boolean lost;
    boolean acked;

    Segment(long seq, byte[] message, int offset, int length, boolean fin) {
      this.seq = seq;
      this.message = message;
      this.offset = offset;
      this.length = length;
      this.fin = fin;
    }

    int messageLength() {
      return fin ? 0 : message.length;
    }

    int wireSize() {
      return Wire.CHUNK_HEADER_LENGTH + length;
    }
  }

  private final int datagramSize;
  private final int maxChunkData;
  private final Counters counters;
  private final RttEstimator rtt;
  private final CongestionControl cc;
  private final SeqRing<Segment> ring;
  private final TransmissionLog log = new TransmissionLog();
  private final PriorityQueue<Segment> lostQueue = new PriorityQueue<>((a, b) -> Long.compare(a.seq, b.seq));
  private final ArrayDeque<byte[]> pending = new ArrayDeque<>();

  private int peerWindow;
  private byte[] current;
  private int currentOffset;
  private boolean finQueued;
  private long finSeq = -1;
  private long sndUna;
  private long sndNxt;
  private long bytesInFlight;
  private long queuedBytes;
  private long nextOrder;
  private long largestAckedOrder = -1;
  private boolean windowLimited;
  private boolean lastWriteUrgent;
  private long rtoDeadline = NONE;
  private long lossDeadline = NONE;
  private long probeDeadline = NONE;
  private long lastSendTime;
  private int probeCount;
  private int probeCredit;

  /**
   * @param datagramSize the largest datagram this side sends
   * @param peerWindow the peer's receive window, in segments
   */
  Sender(int datagramSize, int peerWindow, RttEstimator rtt, Counters counters) {
    this.datagramSize = datagramSize;
    this.maxChunkData = maxChunkData(datagramSize);
    this.peerWindow = peerWindow;
    this.rtt = rtt;
    this.counters = counters;
    this.cc = new CongestionControl(datagramSize);
    this.ring = new SeqRing<>(peerWindow);
  }

  /** The most data one chunk carries in a datagram of {@code datagramSize} bytes. */
  static int maxChunkData(int datagramSize) {
    return datagramSize - Wire.SESSION_HEADER_LENGTH - PIGGYBACK_SACK_BLOCKS * Wire.SACK_BLOCK_LENGTH
        - Wire.CHUNK_HEADER_LENGTH;
  }

  // ---------------------------------------------------------------- queueing

  /** Queues a message (the sender owns the array from now on). */
  void offer(byte[] message) {
    if (finQueued) {
      throw new IllegalStateException("message queued after FIN");
    }
    pending.add(message);
    queuedBytes += message.length;
  }

  /** Queues the FIN after everything offered so far. */
  void offerFin() {
    finQueued = true;
  }

  boolean finQueued() {
    return finQueued;
  }

  /** Whether the FIN was sent and acknowledged: the peer has everything this side sent. */
  boolean finAcknowledged() {
    return finSeq >= 0 && sndUna > finSeq;
  }

  /** Whether everything but the FIN is acknowledged. */
  boolean allButFinAcknowledged() {
    return finSeq >= 0 && sndUna == finSeq;
  }

  // ---------------------------------------------------------------- writing chunks

  /**
   * Appends as many chunks as the windows allow and {@code datagram} has room for: lost chunks
   * first, then new ones.
   *
   * @return how many chunks were written
   */
  int writeChunks(ByteBuf datagram, long now) {
    int written = 0;
    lastWriteUrgent = false;
    while (!lostQueue.isEmpty()) {
      Segment s = lostQueue.peek();
      if (s.acked || !s.lost) {
        lostQueue.poll();
        continue;
      }
      if (!cc.canSend(bytesInFlight) && probeCredit == 0) {
        windowLimited = true;
        return written;
      }
      if (s.wireSize() > datagramSize - datagram.writerIndex()) {
        return written;
      }
      if (probeCredit > 0) {
        probeCredit--;
      }
      lostQueue.poll();
      s.lost = false;
      writeChunk(datagram, s);
      transmit(s, now);
      counters.inc(Counter.SEGMENTS_RETRANSMITTED);
      lastWriteUrgent = true;
      written++;
    }
    while (true) {
      if (!hasNewData()) {
        windowLimited = false;
        return written;
      }
      if (!cc.canSend(bytesInFlight)) {
        windowLimited = true;
        return written;
      }
      if (sndNxt - sndUna >= peerWindow) {
        return written;
      }
      Segment s = nextSegment(datagramSize - datagram.writerIndex());
      if (s == null) {
        return written;
      }
      ring.put(s.seq, s);
      writeChunk(datagram, s);
      transmit(s, now);
      counters.inc(Counter.SEGMENTS_SENT);
      lastWriteUrgent |= s.fin;
      written++;
    }
  }

  /** Whether the last {@link #writeChunks} sent something again, or the FIN: either asks for an ack at once. */
  boolean lastWriteUrgent() {
    return lastWriteUrgent;
  }

  /**
   * Whether {@link #writeChunks} would write something now: a lost chunk the congestion window (or a
   * probe) lets out, or new data within both windows.
   */
  boolean hasSomethingToSend() {
    boolean mayRetransmit = cc.canSend(bytesInFlight) || probeCredit > 0;
    for (Segment s; (s = lostQueue.peek()) != null; lostQueue.poll()) {
      if (!s.acked && s.lost) {
        if (mayRetransmit) {
          return true;
        }
        break;
      }
    }
    if (!hasNewData()) {
      windowLimited = false;
      return false;
    }
    if (!cc.canSend(bytesInFlight)) {
      windowLimited = true;
      return false;
    }
    return sndNxt - sndUna < peerWindow;
  }

  /**
   * How big a datagram the next {@link #writeChunks} needs, at most {@code datagramSize}: exact for
   * the common case of one small message and nothing to resend, the full size otherwise.
   */
  int datagramSizeHint() {
    if (!lostQueue.isEmpty() || current != null || pending.size() != 1) {
      return datagramSize;
    }
    long need = (long) Wire.SESSION_HEADER_LENGTH + PIGGYBACK_SACK_BLOCKS * Wire.SACK_BLOCK_LENGTH
        + Wire.CHUNK_HEADER_LENGTH + pending.peek().length;
    return (int) Math.min(datagramSize, need);
  }

  private boolean hasNewData() {
    return current != null || !pending.isEmpty() || (finQueued && finSeq < 0);
  }

  /** Cuts the next chunk to fit in {@code space} bytes, or returns null if it should wait for a fresh datagram. */
  private Segment nextSegment(int space) {
    int avail = Math.min(space - Wire.CHUNK_HEADER_LENGTH, maxChunkData);
    if (avail < 0) {
      return null;
    }
    if (current == null) {
      current = pending.poll();
      currentOffset = 0;
      if (current == null) {
        if (finQueued && finSeq < 0) {
          finSeq = sndNxt;
          return new Segment(sndNxt++, null, 0, 0, true);
        }
        return null;
      }
    }
    int remaining = current.length - currentOffset;
    if (remaining > avail && (remaining <= maxChunkData || avail < MIN_SPLIT)) {
      return null; // starts a fresh datagram instead: whole small messages can be delivered in place
    }
    int length = Math.min(remaining, avail);
    Segment s = new Segment(sndNxt++, current, currentOffset, length, false);
    currentOffset += length;
    if (currentOffset == current.length) {
      current = null;
    }
    return s;
  }

  private static void writeChunk(ByteBuf d, Segment s) {
    d.writeLong(s.seq);
    d.writeInt(s.messageLength());
    d.writeInt(s.offset);
    d.writeShort(s.length);
    d.writeByte(s.fin ? Wire.CHUNK_FIN : 0);
    d.writeByte(0);
    if (s.length > 0) {
      d.writeBytes(s.message, s.offset, s.length);
    }
  }

  private void transmit(Segment s, long now) {
    s.txTime = now;
    s.txOrder = nextOrder++;
    s.txCount++;
    s.inFlight = true;
    bytesInFlight += s.wireSize();
    log.add(s.seq, s.txOrder);
    lastSendTime = now;
    if (rtoDeadline == NONE) {
      rtoDeadline = now + rtt.rtoNanos();
    }
    armProbe();
  }

  /** The probe timeout before any backoff: SRTT + max(4 RTTVAR, G) + the peer's maximum ack delay. */
  long probeTimeoutNanos() {
    if (!rtt.hasSample()) {
      return rtt.rtoNanos();
    }
    return rtt.smoothedRttNanos() + Math.max(4 * rtt.rttVarNanos(), RttEstimator.GRANULARITY_NANOS)
        + ReliableSession.ACK_DELAY_NANOS;
  }

  private void armProbe() {
    probeDeadline = bytesInFlight > 0 ? lastSendTime + (probeTimeoutNanos() << Math.min(probeCount, 16)) : NONE;
  }

  // ---------------------------------------------------------------- acknowledgements

  /**
   * Whether an acknowledgement is consistent with what was sent: it acknowledges nothing at or past
   * {@link #nextSequence()}. Checked before anything in the datagram is applied.
   */
  boolean ackValid(long cumAck, ByteBuf d, int sackOffset, int sackCount) {
    if (cumAck - sndNxt > 0 || cumAck < 0) {
      return false;
    }
    long previousEnd = -1; // a first block may start at the cumulative point: held before start()
    for (int i = 0; i < sackCount; i++) {
      long start = d.getUnsignedInt(sackOffset + i * Wire.SACK_BLOCK_LENGTH);
      long length = d.getUnsignedInt(sackOffset + i * Wire.SACK_BLOCK_LENGTH + Integer.BYTES);
      if (start <= previousEnd || length == 0 || cumAck + start + length - sndNxt > 0) {
        return false;
      }
      previousEnd = start + length;
    }
    return true;
  }

  /**
   * Applies a validated acknowledgement.
   *
   * @return message bytes newly acknowledged (for the write queue's accounting)
   */
  long onAck(long cumAck, int window, ByteBuf d, int sackOffset, int sackCount, long now) {
    peerWindow = Math.min(window, ring.limit());
    long ackedBytes = 0;
    Segment newest = null;
    boolean limited = windowLimited;
    for (long s = sndUna; s - cumAck < 0; s++) {
      Segment seg = ring.get(s);
      if (seg != null && !seg.acked) {
        ackedBytes += markAcked(seg, limited);
        if (newest == null || seg.txOrder > newest.txOrder) {
          newest = seg;
        }
      }
    }
    if (cumAck - sndUna > 0) {
      ring.advanceTo(cumAck);
      sndUna = cumAck;
    }
    for (int i = 0; i < sackCount; i++) {
      long start = cumAck + d.getUnsignedInt(sackOffset + i * Wire.SACK_BLOCK_LENGTH);
      long end = start + d.getUnsignedInt(sackOffset + i * Wire.SACK_BLOCK_LENGTH + Integer.BYTES);
      for (long s = Math.max(start, sndUna); s < end; s++) {
        Segment seg = ring.get(s);
        if (seg != null && !seg.acked) {
          ackedBytes += markAcked(seg, limited);
          if (newest == null || seg.txOrder > newest.txOrder) {
            newest = seg;
          }
        }
      }
    }
    if (newest != null) {
      if (newest.txOrder > largestAckedOrder) {
        largestAckedOrder = newest.txOrder;
        if (newest.txCount == 1) {
          rtt.sample(now - newest.txTime);
        }
      }
      rtoDeadline = bytesInFlight > 0 ? now + rtt.rtoNanos() : NONE;
      probeCount = 0;
    }
    detectLosses(now);
    armProbe();
    queuedBytes -= ackedBytes;
    return ackedBytes;
  }

  private long markAcked(Segment s, boolean limited) {
    s.acked = true;
    if (s.inFlight) {
      s.inFlight = false;
      bytesInFlight -= s.wireSize();
      cc.onAcked(s.wireSize(), s.txOrder, limited);
    }
    return s.length;
  }

  private void detectLosses(long now) {
    lossDeadline = NONE;
    long lossDelay = lossDelay();
    while (!log.isEmpty()) {
      long seq = log.peekSeq();
      long order = log.peekOrder();
      Segment s = ring.get(seq);
      if (s == null || s.acked || !s.inFlight || s.txOrder != order) {
        log.poll();
        continue;
      }
      if (order >= largestAckedOrder) {
        break;
      }
      if (largestAckedOrder - order >= PACKET_THRESHOLD || now - s.txTime >= lossDelay) {
        log.poll();
        markLost(s);
        counters.inc(Counter.FAST_RETRANSMITS);
      } else {
        lossDeadline = s.txTime + lossDelay;
        break;
      }
    }
    if (bytesInFlight == 0) {
      rtoDeadline = NONE;
    }
  }

  /** 9/8 of the larger of the smoothed and the latest round trip, at least the clock granularity. */
  private long lossDelay() {
    if (!rtt.hasSample()) {
      return rtt.rtoNanos();
    }
    long base = Math.max(rtt.smoothedRttNanos(), rtt.latestRttNanos());
    return Math.max(RttEstimator.GRANULARITY_NANOS, base + base / 8);
  }

  private void markLost(Segment s) {
    s.inFlight = false;
    bytesInFlight -= s.wireSize();
    s.lost = true;
    lostQueue.add(s);
    if (cc.onLost(s.txOrder, nextOrder - 1)) {
      counters.inc(Counter.LOSS_EVENTS);
    }
  }

  // ---------------------------------------------------------------- timers

  long nextDeadline() {
    return Math.min(rtoDeadline, Math.min(lossDeadline, probeDeadline));
  }

  /** Runs the loss timer and the retransmission timer if due. */
  void onTimer(long now) {
    if (lossDeadline != NONE && now - lossDeadline >= 0) {
      detectLosses(now);
    }
    if (rtoDeadline != NONE && now - rtoDeadline >= 0) {
      counters.inc(Counter.RETRANSMISSION_TIMEOUTS);
      rtt.backOff();
      cc.onTimeout(nextOrder - 1);
      while (!log.isEmpty()) {
        long seq = log.peekSeq();
        long order = log.peekOrder();
        log.poll();
        Segment s = ring.get(seq);
        if (s != null && !s.acked && s.inFlight && s.txOrder == order) {
          s.inFlight = false;
          bytesInFlight -= s.wireSize();
          s.lost = true;
          lostQueue.add(s);
        }
      }
      rtoDeadline = NONE;
      lossDeadline = NONE;
      probeDeadline = NONE;
      probeCredit = 0;
    } else if (probeDeadline != NONE && now - probeDeadline >= 0) {
      probe();
    }
  }

  /** Queues the oldest chunk in flight to be sent again at once, past the congestion window. */
  private void probe() {
    probeDeadline = NONE;
    while (!log.isEmpty()) {
      Segment s = ring.get(log.peekSeq());
      if (s == null || s.acked || !s.inFlight || s.txOrder != log.peekOrder()) {
        log.poll();
        continue;
      }
      log.poll();
      s.inFlight = false;
      bytesInFlight -= s.wireSize();
      s.lost = true;
      lostQueue.add(s);
      probeCredit = 1;
      probeCount++;
      counters.inc(Counter.TAIL_LOSS_PROBES);
      return;
    }
  }

  // ---------------------------------------------------------------- figures

  long nextSequence() {
    return sndNxt;
  }

  long oldestUnacknowledged() {
    return sndUna;
  }

  /** Message bytes queued or in flight: offered and not yet acknowledged. */
  long unacknowledgedBytes() {
    return queuedBytes;
  }

  CongestionControl congestion() {
    return cc;
  }

  RttEstimator rtt() {
    return rtt;
  }

  /** Drops everything held: the session is over. */
  void release() {
    pending.clear();
    current = null;
    lostQueue.clear();
    log.clear();
    ring.advanceTo(sndNxt);
  }
}
