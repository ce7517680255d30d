package io.lpcbridge.transport.udp;

/** Something whose {@link UdpStats.Counter} values can be summed: {@link Counters} or a group of them. */
interface Countable {
  /** Adds this one's values into {@code sums}, indexed by counter ordinal. */
  void addTo(long[] sums);
}
