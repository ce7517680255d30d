package io.lpcbridge.transport.udp;

import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * A snapshot of the udp transport's counters: for one connection, one listener (its socket and
 * every connection it accepted) or the whole process. Read it with {@link
 * UdpTransportProvider#stats}. Counters only grow; compare two snapshots to see what happened in
 * between.
 *
 * @param counters every counter, zero where nothing happened
 * @param smoothedRtt the connection's smoothed round-trip time (RFC 6298 SRTT); zero for listeners,
 *     totals, and connections that have no sample yet
 * @param retransmissionTimeout the connection's current RTO, backoff included; zero likewise
 * @param congestionWindow the connection's congestion window in bytes; zero likewise
 */
public record UdpStats(
    Map<Counter, Long> counters, Duration smoothedRtt, Duration retransmissionTimeout, long congestionWindow) {

  /** What is counted. Drops are by reason; each dropped datagram is counted once. */
  public enum Counter {
    DATAGRAMS_SENT("datagrams written to the socket"),
    DATAGRAMS_RECEIVED("datagrams read from the socket, valid or not"),
    BYTES_SENT("UDP payload bytes written"),
    BYTES_RECEIVED("UDP payload bytes read"),
    MESSAGES_SENT("messages accepted by send()"),
    MESSAGES_DELIVERED("messages handed to onMessage()"),
    SEGMENTS_SENT("chunks sent for the first time"),
    SEGMENTS_RETRANSMITTED("chunks sent again"),
    FAST_RETRANSMITS("chunks declared lost from acknowledgements of later ones, before any timeout"),
    TAIL_LOSS_PROBES("chunks sent again because nothing was acknowledged for a probe timeout"),
    RETRANSMISSION_TIMEOUTS("retransmission timer expiries (each backs the timer off)"),
    LOSS_EVENTS("congestion window reductions"),
    ACKS_SENT("datagrams carrying only an acknowledgement"),
    PINGS_SENT("keepalive probes"),
    DUPLICATES_DROPPED("chunks received again and dropped (duplicated or replayed datagrams)"),
    OUT_OF_WINDOW_DROPPED("chunks beyond the receive window, dropped"),
    MALFORMED_DROPPED("datagrams dropped as garbage: bad magic, version, type or structure"),
    TRUNCATED_DROPPED("datagrams dropped because a header or length ran past the end"),
    UNKNOWN_CONNECTION_DROPPED("datagrams dropped for an unknown connection id (spoofed or stale)"),
    WRONG_SOURCE_DROPPED("datagrams dropped because they came from another address than the peer's"),
    INVALID_ACK_DROPPED("datagrams dropped for acknowledging data never sent"),
    COOKIES_SENT("stateless COOKIE answers to INIT"),
    COOKIE_INVALID_DROPPED("COOKIE_ECHO with a MAC that does not verify"),
    COOKIE_EXPIRED_DROPPED("COOKIE_ECHO with an expired cookie"),
    COOKIE_REPLAYED_DROPPED("COOKIE_ECHO for a connection that has already ended"),
    HANDSHAKE_DUPLICATES("COOKIE_ECHO repeated for a live connection (answered again, nothing allocated)"),
    CONNECTIONS_ACCEPTED("connections created by a listener"),
    CONNECTIONS_REFUSED("handshakes refused (listener closed, too many connections)"),
    PORT_UNREACHABLE("ICMP port unreachable reports on a client socket"),
    SOCKET_ERRORS("other errors the socket reported, e.g. network unreachable while a link is down (not fatal)");

    private final String description;

    Counter(String description) {
      this.description = description;
    }

    /** What the counter counts, for reports. */
    public String description() {
      return description;
    }
  }

  public UdpStats {
    EnumMap<Counter, Long> copy = new EnumMap<>(Counter.class);
    for (Counter c : Counter.values()) {
      copy.put(c, counters.getOrDefault(c, 0L));
    }
    counters = Collections.unmodifiableMap(copy);
  }

  /** The value of one counter. */
  public long count(Counter counter) {
    return counters.get(counter);
  }

  /** Every datagram dropped as invalid, whatever the reason. */
  public long droppedInvalid() {
    return count(Counter.MALFORMED_DROPPED) + count(Counter.TRUNCATED_DROPPED)
        + count(Counter.UNKNOWN_CONNECTION_DROPPED) + count(Counter.WRONG_SOURCE_DROPPED)
        + count(Counter.INVALID_ACK_DROPPED) + count(Counter.COOKIE_INVALID_DROPPED)
        + count(Counter.COOKIE_EXPIRED_DROPPED) + count(Counter.COOKIE_REPLAYED_DROPPED);
  }

  /** The counters that are not zero, and the connection figures when known. */
  @Override
  public String toString() {
    StringJoiner j = new StringJoiner(", ", "UdpStats[", "]");
    counters.forEach((c, v) -> {
      if (v != 0) {
        j.add(c.name().toLowerCase(java.util.Locale.ROOT) + "=" + v);
      }
    });
    if (!smoothedRtt.isZero()) {
      j.add("srtt=" + smoothedRtt.toNanos() / 1000 + "us");
      j.add("rto=" + retransmissionTimeout.toMillis() + "ms");
      j.add("cwnd=" + congestionWindow);
    }
    return j.toString();
  }
}
