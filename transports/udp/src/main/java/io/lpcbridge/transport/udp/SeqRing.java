package io.lpcbridge.transport.udp;

/**
 * Slots for sequence numbers {@code [base, base + limit)}: the chunks a sender has in flight, or
 * the chunks a receiver holds out of order. A power-of-two array indexed by {@code seq & mask},
 * grown on demand up to the window, so an idle connection holds only a few slots.
 *
 * <p>Not thread-safe; owned by one session.
 */
final class SeqRing<T> {
  private static final int INITIAL_CAPACITY = 16;

  private final int limit;
  private Object[] slots;
  private long base;

  /** @param limit the most sequence numbers held at once (the window) */
  SeqRing(int limit) {
    this.limit = limit;
    this.slots = new Object[Math.min(INITIAL_CAPACITY, Integer.highestOneBit(Math.max(1, limit - 1)) << 1)];
  }

  int limit() {
    return limit;
  }

  /** Whether {@code seq} is in {@code [base, base + limit)}. */
  boolean inRange(long seq) {
    return seq - base >= 0 && seq - base < limit;
  }

  @SuppressWarnings("unchecked")
  T get(long seq) {
    if (seq - base < 0 || seq - base >= slots.length) {
      return null;
    }
    return (T) slots[(int) seq & (slots.length - 1)];
  }

  /**
   * Stores {@code value} at {@code seq}.
   *
   * @throws IllegalArgumentException if {@code seq} is outside {@code [base, base + limit)}; callers
   *     check {@link #inRange} first
   */
  void put(long seq, T value) {
    if (!inRange(seq)) {
      throw new IllegalArgumentException("sequence " + seq + " outside [" + base + ", " + (base + limit) + ")");
    }
    if (seq - base >= slots.length) {
      grow(seq - base + 1);
    }
    slots[(int) seq & (slots.length - 1)] = value;
  }

  /** Removes and returns what is at {@code seq}, if anything. */
  @SuppressWarnings("unchecked")
  T remove(long seq) {
    if (seq - base < 0 || seq - base >= slots.length) {
      return null;
    }
    int i = (int) seq & (slots.length - 1);
    T v = (T) slots[i];
    slots[i] = null;
    return v;
  }

  /** Moves the base up to {@code newBase}, dropping whatever is below it. */
  void advanceTo(long newBase) {
    if (newBase - base <= 0) {
      return;
    }
    if (newBase - base >= slots.length) {
      java.util.Arrays.fill(slots, null);
    } else {
      for (long s = base; s != newBase; s++) {
        slots[(int) s & (slots.length - 1)] = null;
      }
    }
    base = newBase;
  }

  private void grow(long needed) {
    int capacity = slots.length;
    while (capacity < needed) {
      capacity <<= 1;
    }
    Object[] bigger = new Object[capacity];
    for (long s = base; s != base + slots.length; s++) {
      bigger[(int) s & (capacity - 1)] = slots[(int) s & (slots.length - 1)];
    }
    slots = bigger;
  }
}
