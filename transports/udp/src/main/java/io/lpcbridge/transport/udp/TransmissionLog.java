package io.lpcbridge.transport.udp;

/**
 * Transmissions in the order they were made, as (sequence number, transmission order) pairs: a
 * growable ring of longs. Loss detection walks it from the oldest; entries whose chunk has since
 * been acknowledged, declared lost or sent again are skipped and dropped lazily.
 *
 * <p>Not thread-safe; owned by one session.
 */
final class TransmissionLog {
  private long[] seqs = new long[64];
  private long[] orders = new long[64];
  private int head;
  private int size;

  void add(long seq, long order) {
    if (size == seqs.length) {
      grow();
    }
    int i = (head + size) & (seqs.length - 1);
    seqs[i] = seq;
    orders[i] = order;
    size++;
  }

  boolean isEmpty() {
    return size == 0;
  }

  int size() {
    return size;
  }

  long peekSeq() {
    return seqs[head];
  }

  long peekOrder() {
    return orders[head];
  }

  void poll() {
    head = (head + 1) & (seqs.length - 1);
    size--;
  }

  void clear() {
    head = 0;
    size = 0;
  }

  private void grow() {
    long[] s = new long[seqs.length * 2];
    long[] o = new long[seqs.length * 2];
    for (int k = 0; k < size; k++) {
      int i = (head + k) & (seqs.length - 1);
      s[k] = seqs[i];
      o[k] = orders[i];
    }
    seqs = s;
    orders = o;
    head = 0;
  }
}
