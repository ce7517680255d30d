package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.udp.UdpStats.Counter;
import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Counters of one socket or connection, and groups of them (a listener and its connections, the
 * process).
 *
 * <p>A {@link Counters} has one writer, the event loop that owns the socket, so an increment is a
 * plain read and an ordered write (no atomic read-modify-write on the hot path); any thread may
 * read. A {@link Group} sums its live members and what ended members left in it when they retired.
 * A sum read while a member retires may count that member twice or not at all; read totals once
 * traffic has settled.
 */
final class Counters implements Countable {
  private static final Counter[] ALL = Counter.values();

  private final AtomicLongArray values = new AtomicLongArray(ALL.length);

  /** Adds one. Call only from the owning event loop. */
  void inc(Counter c) {
    add(c, 1);
  }

  /** Adds {@code n}. Call only from the owning event loop. */
  void add(Counter c, long n) {
    int i = c.ordinal();
    values.lazySet(i, values.get(i) + n);
  }

  long get(Counter c) {
    return values.get(c.ordinal());
  }

  @Override
  public void addTo(long[] sums) {
    for (int i = 0; i < sums.length; i++) {
      sums[i] += values.get(i);
    }
  }

  static Map<Counter, Long> toMap(long[] sums) {
    Map<Counter, Long> m = new EnumMap<>(Counter.class);
    for (Counter c : ALL) {
      m.put(c, sums[c.ordinal()]);
    }
    return m;
  }

  static long[] sumsOf(Countable c) {
    long[] sums = new long[ALL.length];
    c.addTo(sums);
    return sums;
  }

  /** Live members plus what retired members left behind. Thread-safe. */
  static final class Group implements Countable {
    private final Set<Countable> live = ConcurrentHashMap.newKeySet();
    private final AtomicLongArray retired = new AtomicLongArray(ALL.length);

    void join(Countable member) {
      live.add(member);
    }

    /** Keeps what {@code member} counted and stops reading it. */
    void retire(Countable member) {
      if (!live.remove(member)) {
        return;
      }
      long[] sums = sumsOf(member);
      for (int i = 0; i < sums.length; i++) {
        if (sums[i] != 0) {
          retired.getAndAdd(i, sums[i]);
        }
      }
    }

    @Override
    public void addTo(long[] sums) {
      for (int i = 0; i < sums.length; i++) {
        sums[i] += retired.get(i);
      }
      for (Countable c : live) {
        c.addTo(sums);
      }
    }
  }

  /** Every udp socket and connection in this process. */
  static final Group PROCESS = new Group();
}
