package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.udp.UdpStats.Counter;
import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.time.Duration;

/**
 * The reliability state machine of one established session: SESSION and RESET datagrams in,
 * datagrams out, messages up. No I/O, no threads and no clock of its own: every input carries the
 * time, {@link #nextDeadline()} says when to call {@link #onTimer}, and datagrams leave through
 * {@link Io}. That keeps it deterministic for tests, which drive two of these by hand.
 *
 * <h2>Acknowledgements</h2>
 *
 * Every SESSION datagram carries this side's cumulative ack, receive window and up to {@link
 * Sender#PIGGYBACK_SACK_BLOCKS} SACK blocks; a pure acknowledgement carries as many blocks as fit.
 * A datagram with chunks (or a PING) is acknowledged at once if it arrived out of order, repeated
 * something, asked for it ({@link Wire#FLAG_ACK_NOW}) or is the second unacknowledged one;
 * otherwise within {@link #ACK_DELAY_NANOS}, usually riding on a reply.
 *
 * <h2>Liveness</h2>
 *
 * A PING goes out when nothing was sent for {@code keepAlive}; the peer answers it. When nothing
 * valid arrived for {@code idleTimeout} the session fails with an {@link IOException} saying so, and
 * a RESET is sent in case only the other direction is broken.
 *
 * <h2>Closing</h2>
 *
 * {@link #close} queues a FIN chunk after everything offered. A side whose FIN is acknowledged and
 * that has processed the peer's FIN reports {@code onClosed(null)} and stays in TIME_WAIT for a few
 * RTOs, re-acknowledging a repeated FIN, before {@code onTerminated}. If linger expires first the
 * session fails, unless only the acknowledgement of its own FIN is missing after the peer finished:
 * every message was delivered, so that close is still orderly. A failure sends RESET; a RESET
 * received fails the session with the peer's reason.
 *
 * <p>Not thread-safe: every method runs on the session's event loop.
 */
final class ReliableSession {
  static final long ACK_DELAY_NANOS = 1_000_000L;
  /** Acknowledge at once when this many datagrams with chunks are unacknowledged. */
  static final int ACK_EVERY = 2;
  static final long MIN_TIME_WAIT_NANOS = 100_000_000L;
  static final long MAX_TIME_WAIT_NANOS = 2_000_000_000L;
  private static final long NONE = Sender.NONE;

  /** Where datagrams go. */
  interface Io {
    ByteBuf allocate(int capacity);

    /** Sends (or queues for the next flush) a datagram; takes ownership of it. */
    void send(ByteBuf datagram);
  }

  /** What the session reports upwards. Called on the session's thread. */
  interface Events {
    /** A message, valid until return. May throw: the session then fails with that exception. */
    void onMessage(ByteBuffer message);

    /** {@code bytes} of message data were acknowledged by the peer. */
    void onAcked(long bytes);

    /** The peer finished sending (its FIN was processed after all its messages). */
    void onPeerFinished();

    /** Called once: null for an orderly close, else what went wrong. */
    void onClosed(Throwable cause);

    /** Nothing more will happen; resources may go. Called once, after {@link #onClosed}. */
    void onTerminated();
  }

  /** What the handshake settled. */
  record Config(
      long localCid,
      long peerCid,
      int datagramSize,
      int localWindow,
      int peerWindow,
      int maxMessageSize,
      Duration idleTimeout,
      Duration keepAlive,
      Duration minRto,
      Duration linger,
      String peer) {}

  private enum State {
    OPEN,
    TIME_WAIT,
    DONE
  }

  private final Config config;
  private final Io io;
  private final Events events;
  private final Counters counters;
  private final RttEstimator rtt;
  private final Sender sender;
  private final Receiver receiver;
  private final Receiver.Sink sink;
  private final long idleNanos;
  private final long keepAliveNanos;

  private State state = State.OPEN;
  private boolean started;
  private boolean peerFinNotified;
  private boolean closedNotified;
  private long lastReceived;
  private long lastSent;
  private int unackedEliciting;
  private boolean ackNow;
  private boolean pingDue;
  private long ackDeadline = NONE;
  private long lingerDeadline = NONE;
  private long timeWaitDeadline = NONE;

  /**
   * @param handshakeRtt a round trip measured during the handshake, or 0 if none
   */
  ReliableSession(Config config, Io io, Events events, Counters counters, long now, long handshakeRtt) {
    this.config = config;
    this.io = io;
    this.events = events;
    this.counters = counters;
    this.rtt = new RttEstimator(config.minRto().toNanos());
    if (handshakeRtt > 0) {
      rtt.sample(handshakeRtt);
    }
    this.sender = new Sender(config.datagramSize(), config.peerWindow(), rtt, counters);
    this.receiver = new Receiver(config.localWindow(), config.maxMessageSize(), config.peer());
    this.sink = message -> {
      counters.inc(Counter.MESSAGES_DELIVERED);
      events.onMessage(message);
    };
    this.idleNanos = config.idleTimeout().toNanos();
    this.keepAliveNanos = config.keepAlive().toNanos();
    this.lastReceived = now;
    this.lastSent = now;
  }

  // ---------------------------------------------------------------- inputs from above

  /** Messages may be delivered from now on; chunks held until now are processed. */
  void start(long now) {
    if (started || state != State.OPEN) {
      return;
    }
    started = true;
    long before = receiver.cumulativeAck();
    try {
      receiver.drain(sink);
    } catch (ProtocolException e) {
      fail(e, Wire.RESET_PROTOCOL_ERROR);
      return;
    } catch (RuntimeException | Error e) {
      fail(e, Wire.RESET_LOCAL_FAILURE);
      return;
    }
    if (receiver.cumulativeAck() != before) {
      ackNow = true;
    }
    afterReceive(now);
  }

  /** Queues a message; the session owns the array from now on. */
  void offer(byte[] message) {
    if (state != State.OPEN || sender.finQueued()) {
      return;
    }
    counters.inc(Counter.MESSAGES_SENT);
    sender.offer(message);
  }

  /** Queues the FIN after everything offered; linger starts now. */
  void close(long now) {
    if (state != State.OPEN || sender.finQueued()) {
      return;
    }
    sender.offerFin();
    lingerDeadline = now + config.linger().toNanos();
  }

  /** Fails the session from outside (the socket failed, the peer's host is unreachable). */
  void abort(Throwable cause, boolean sendReset) {
    if (sendReset) {
      fail(cause, Wire.RESET_LOCAL_FAILURE);
    } else {
      failQuietly(cause);
    }
  }

  // ---------------------------------------------------------------- datagrams in

  /**
   * One datagram addressed to this session, from the peer's address; its common header has been
   * checked and it is a SESSION or RESET. Invalid ones are counted and dropped.
   */
  void onDatagram(ByteBuf d, long now) {
    counters.inc(Counter.DATAGRAMS_RECEIVED);
    counters.add(Counter.BYTES_RECEIVED, d.readableBytes());
    if (state == State.DONE) {
      return;
    }
    int type = Packets.type(d);
    if (type == Wire.TYPE_RESET) {
      onReset(d, now);
      return;
    }
    Packets.Check check = type == Wire.TYPE_SESSION ? checkSession(d) : Packets.Check.MALFORMED;
    if (check != Packets.Check.OK) {
      counters.inc(check.dropped());
      return;
    }
    int base = d.readerIndex();
    int flags = d.getUnsignedByte(base + Wire.FLAGS_OFFSET);
    int sackCount = d.getUnsignedByte(base + Wire.SACK_COUNT_OFFSET);
    long cumAck = d.getLong(base + Wire.CUM_ACK_OFFSET);
    int window = (int) d.getUnsignedInt(base + Wire.WINDOW_OFFSET);
    int sackOffset = base + Wire.SACKS_OFFSET;
    if (!sender.ackValid(cumAck, d, sackOffset, sackCount)) {
      counters.inc(Counter.INVALID_ACK_DROPPED);
      return;
    }
    lastReceived = now;
    int chunks = sackOffset + sackCount * Wire.SACK_BLOCK_LENGTH;
    int end = base + d.readableBytes();
    boolean eliciting = (flags & Wire.FLAG_PING) != 0 || chunks < end;
    boolean urgent = (flags & (Wire.FLAG_PING | Wire.FLAG_ACK_NOW)) != 0;
    if (state == State.TIME_WAIT) {
      ackNow |= eliciting;
      return;
    }
    long acked = sender.onAck(cumAck, window, d, sackOffset, sackCount, now);
    if (acked > 0) {
      events.onAcked(acked);
    }
    for (int pos = chunks; pos < end; ) {
      long seq = d.getLong(pos + Wire.CHUNK_SEQ_OFFSET);
      int messageLength = d.getInt(pos + Wire.CHUNK_MESSAGE_LENGTH_OFFSET);
      int offset = d.getInt(pos + Wire.CHUNK_OFFSET_OFFSET);
      int length = d.getUnsignedShort(pos + Wire.CHUNK_LENGTH_OFFSET);
      boolean fin = (d.getUnsignedByte(pos + Wire.CHUNK_FLAGS_OFFSET) & Wire.CHUNK_FIN) != 0;
      boolean heldBefore = receiver.ranges().size() > 0;
      Receiver.Outcome outcome;
      try {
        outcome = receiver.accept(
            seq, messageLength, offset, length, fin, d, pos + Wire.CHUNK_HEADER_LENGTH,
            started && state == State.OPEN, sink);
      } catch (ProtocolException e) {
        fail(e, Wire.RESET_PROTOCOL_ERROR);
        return;
      } catch (RuntimeException | Error e) {
        fail(e, Wire.RESET_LOCAL_FAILURE); // the handler threw: SPI contract
        return;
      }
      if (state != State.OPEN) {
        return;
      }
      switch (outcome) {
        case DUPLICATE -> {
          counters.inc(Counter.DUPLICATES_DROPPED);
          urgent = true;
        }
        case OUT_OF_WINDOW -> {
          counters.inc(Counter.OUT_OF_WINDOW_DROPPED);
          urgent = true;
        }
        case HELD -> urgent |= seq != receiver.cumulativeAck();
        case IN_ORDER -> urgent |= heldBefore || fin; // a filled gap or a FIN: tell the sender now
      }
      pos += Wire.CHUNK_HEADER_LENGTH + length;
    }
    if (eliciting) {
      unackedEliciting++;
      if (urgent || unackedEliciting >= ACK_EVERY) {
        ackNow = true;
      } else if (ackDeadline == NONE) {
        ackDeadline = now + ACK_DELAY_NANOS;
      }
    }
    afterReceive(now);
  }

  private void afterReceive(long now) {
    if (receiver.finReceived() && !peerFinNotified && state == State.OPEN) {
      peerFinNotified = true;
      events.onPeerFinished();
    }
    if (state == State.OPEN && sender.finAcknowledged() && receiver.finReceived()) {
      state = State.TIME_WAIT;
      timeWaitDeadline = now + Math.min(MAX_TIME_WAIT_NANOS, Math.max(MIN_TIME_WAIT_NANOS, 3 * rtt.rtoNanos()));
      sender.release();
      notifyClosed(null);
    }
  }

  private void onReset(ByteBuf d, long now) {
    Packets.Check check = Packets.checkReason(d);
    if (check != Packets.Check.OK) {
      counters.inc(check.dropped());
      return;
    }
    lastReceived = now;
    if (state == State.TIME_WAIT) {
      finish();
      return;
    }
    failQuietly(new IOException(
        "udp peer " + config.peer() + " reset the connection: " + Packets.reasonText(d)
            + " (code " + Packets.reasonCode(d) + ")"));
  }

  /**
   * Checks a SESSION datagram's structure: header, SACK blocks and every chunk header and length
   * within the datagram; a FIN carries nothing; no chunk runs past its message's length.
   */
  static Packets.Check checkSession(ByteBuf d) {
    int base = d.readerIndex();
    int n = d.readableBytes();
    if (n < Wire.SESSION_HEADER_LENGTH) {
      return Packets.Check.TRUNCATED;
    }
    int sackCount = d.getUnsignedByte(base + Wire.SACK_COUNT_OFFSET);
    long window = d.getUnsignedInt(base + Wire.WINDOW_OFFSET);
    if (window == 0 || window > Wire.MAX_WINDOW || d.getLong(base + Wire.CUM_ACK_OFFSET) < 0) {
      return Packets.Check.MALFORMED;
    }
    int pos = Wire.SACKS_OFFSET + sackCount * Wire.SACK_BLOCK_LENGTH;
    if (n < pos) {
      return Packets.Check.TRUNCATED;
    }
    while (pos < n) {
      if (n - pos < Wire.CHUNK_HEADER_LENGTH) {
        return Packets.Check.TRUNCATED;
      }
      int at = base + pos;
      long seq = d.getLong(at + Wire.CHUNK_SEQ_OFFSET);
      long messageLength = d.getUnsignedInt(at + Wire.CHUNK_MESSAGE_LENGTH_OFFSET);
      long offset = d.getUnsignedInt(at + Wire.CHUNK_OFFSET_OFFSET);
      int length = d.getUnsignedShort(at + Wire.CHUNK_LENGTH_OFFSET);
      int chunkFlags = d.getUnsignedByte(at + Wire.CHUNK_FLAGS_OFFSET);
      if (n - pos - Wire.CHUNK_HEADER_LENGTH < length) {
        return Packets.Check.TRUNCATED;
      }
      boolean fin = (chunkFlags & Wire.CHUNK_FIN) != 0;
      if (seq < 0 || offset + length > messageLength || (fin && (length != 0 || messageLength != 0))) {
        return Packets.Check.MALFORMED;
      }
      pos += Wire.CHUNK_HEADER_LENGTH + length;
    }
    return Packets.Check.OK;
  }

  // ---------------------------------------------------------------- datagrams out

  /** Sends what the windows allow, then an acknowledgement or PING if one is due. */
  void flush(long now) {
    if (state == State.OPEN) {
      while (sender.hasSomethingToSend()) {
        ByteBuf d = io.allocate(sender.datagramSizeHint());
        int flagsIndex = writeSessionHeader(d, Sender.PIGGYBACK_SACK_BLOCKS);
        if (sender.writeChunks(d, now) == 0) {
          d.release();
          break;
        }
        if (sender.lastWriteUrgent()) {
          d.setByte(flagsIndex, Wire.FLAG_ACK_NOW);
        }
        emit(d, now);
        ackSent();
      }
    }
    if (state == State.DONE) {
      return;
    }
    if (ackNow || pingDue || (unackedEliciting > 0 && ackDeadline != NONE && now - ackDeadline >= 0)) {
      int blocks = Math.min(
          receiver.ranges().size(),
          Math.min(Wire.MAX_SACK_BLOCKS, (config.datagramSize() - Wire.SESSION_HEADER_LENGTH) / Wire.SACK_BLOCK_LENGTH));
      ByteBuf d = io.allocate(Wire.SESSION_HEADER_LENGTH + blocks * Wire.SACK_BLOCK_LENGTH);
      int flagsIndex = writeSessionHeader(d, blocks);
      if (pingDue && state == State.OPEN) {
        d.setByte(flagsIndex, Wire.FLAG_PING);
        counters.inc(Counter.PINGS_SENT);
      } else {
        counters.inc(Counter.ACKS_SENT);
      }
      emit(d, now);
      ackSent();
    }
  }

  /** Writes the common header and the SESSION header with up to {@code maxBlocks} SACK blocks. */
  private int writeSessionHeader(ByteBuf d, int maxBlocks) {
    Packets.writeHeader(d, Wire.TYPE_SESSION, config.peerCid());
    int flagsIndex = d.writerIndex();
    SackRanges ranges = receiver.ranges();
    int blocks = Math.min(maxBlocks, ranges.size());
    long cum = receiver.cumulativeAck();
    d.writeByte(0);
    d.writeByte(blocks);
    d.writeShort(0);
    d.writeLong(cum);
    d.writeInt(receiver.window());
    for (int i = 0; i < blocks; i++) {
      d.writeInt((int) (ranges.start(i) - cum));
      d.writeInt((int) (ranges.end(i) - ranges.start(i)));
    }
    return flagsIndex;
  }

  private void emit(ByteBuf d, long now) {
    counters.inc(Counter.DATAGRAMS_SENT);
    counters.add(Counter.BYTES_SENT, d.readableBytes());
    lastSent = now;
    io.send(d);
  }

  private void ackSent() {
    unackedEliciting = 0;
    ackNow = false;
    pingDue = false;
    ackDeadline = NONE;
  }

  private void sendReset(int code, String reason) {
    ByteBuf d = io.allocate(Packets.reasonPacketLength(reason));
    Packets.writeReason(d, Wire.TYPE_RESET, config.peerCid(), code, reason);
    counters.inc(Counter.DATAGRAMS_SENT);
    counters.add(Counter.BYTES_SENT, d.readableBytes());
    io.send(d);
  }

  // ---------------------------------------------------------------- time

  /** When {@link #onTimer} should run next; {@link Long#MAX_VALUE} for never. */
  long nextDeadline() {
    return switch (state) {
      case DONE -> NONE;
      case TIME_WAIT -> timeWaitDeadline;
      case OPEN -> {
        long d = Math.min(sender.nextDeadline(), Math.min(lastReceived + idleNanos, lastSent + keepAliveNanos));
        d = Math.min(d, lingerDeadline);
        if (unackedEliciting > 0) {
          d = Math.min(d, ackDeadline);
        }
        yield d;
      }
    };
  }

  /** Runs whatever timers are due, then flushes. */
  void onTimer(long now) {
    if (state == State.DONE) {
      return;
    }
    if (state == State.TIME_WAIT) {
      if (now - timeWaitDeadline >= 0) {
        finish();
      } else {
        flush(now);
      }
      return;
    }
    if (now - lastReceived >= idleNanos) {
      fail(new IOException(
          "udp peer " + config.peer() + " sent nothing valid for " + format(config.idleTimeout())
              + " (idleTimeout): it died, or the path to it is down"), Wire.RESET_IDLE_TIMEOUT);
      return;
    }
    if (lingerDeadline != NONE && now - lingerDeadline >= 0) {
      if (receiver.finReceived() && sender.allButFinAcknowledged()) {
        // The peer has every message and has finished; only the ack of our FIN is missing.
        state = State.DONE;
        release();
        notifyClosed(null);
        events.onTerminated();
        return;
      }
      fail(new IOException(
          "linger " + format(config.linger()) + " expired before udp peer " + config.peer()
              + " acknowledged everything sent (" + sender.unacknowledgedBytes()
              + " message bytes outstanding); connection closed anyway (raise the transport option linger to wait longer)"),
          Wire.RESET_LINGER_EXPIRED);
      return;
    }
    sender.onTimer(now);
    if (now - lastSent >= keepAliveNanos) {
      pingDue = true;
    }
    flush(now);
  }

  /**
   * The event loop ran this session's timer late (a handler blocked it): datagrams from the peer may
   * still be waiting in the socket, so the idle clock restarts from half the timeout rather than
   * declaring a peer dead that this side simply did not read.
   */
  void onStall(long now) {
    lastReceived = Math.max(lastReceived, now - idleNanos / 2);
  }

  // ---------------------------------------------------------------- endings

  private void fail(Throwable cause, int resetCode) {
    if (state == State.DONE) {
      return;
    }
    if (state == State.OPEN) {
      String reason = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
      sendReset(resetCode, reason);
    }
    failQuietly(cause);
  }

  private void failQuietly(Throwable cause) {
    if (state == State.DONE) {
      return;
    }
    state = State.DONE;
    release();
    notifyClosed(cause);
    events.onTerminated();
  }

  private void finish() {
    state = State.DONE;
    release();
    events.onTerminated();
  }

  private void notifyClosed(Throwable cause) {
    if (!closedNotified) {
      closedNotified = true;
      events.onClosed(cause);
    }
  }

  private void release() {
    sender.release();
    receiver.release();
  }

  private static String format(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
  }

  // ---------------------------------------------------------------- figures

  Sender sender() {
    return sender;
  }

  Receiver receiver() {
    return receiver;
  }

  RttEstimator rtt() {
    return rtt;
  }

  Config config() {
    return config;
  }
}
