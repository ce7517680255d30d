package io.lpcbridge.transport.udp;

/**
 * The sequence numbers a receiver holds above its cumulative point, as sorted, disjoint,
 * non-adjacent half-open ranges {@code [start, end)}: what its SACK blocks report.
 *
 * <p>The number of ranges is at most half the receive window, so memory is bounded by the window.
 * Not thread-safe; owned by one session.
 */
final class SackRanges {
  private long[] starts = new long[8];
  private long[] ends = new long[8];
  private int size;

  int size() {
    return size;
  }

  long start(int i) {
    return starts[i];
  }

  long end(int i) {
    return ends[i];
  }

  boolean contains(long seq) {
    int i = find(seq);
    return i >= 0 && seq < ends[i];
  }

  /** Adds {@code seq}, merging with neighbouring ranges. */
  void add(long seq) {
    int i = find(seq); // last range with start <= seq, or -1
    if (i >= 0 && seq < ends[i]) {
      return;
    }
    boolean joinsLeft = i >= 0 && ends[i] == seq;
    boolean joinsRight = i + 1 < size && starts[i + 1] == seq + 1;
    if (joinsLeft && joinsRight) {
      ends[i] = ends[i + 1];
      removeAt(i + 1);
    } else if (joinsLeft) {
      ends[i] = seq + 1;
    } else if (joinsRight) {
      starts[i + 1] = seq;
    } else {
      insertAt(i + 1, seq, seq + 1);
    }
  }

  /** Forgets everything below {@code seq}. */
  void removeBelow(long seq) {
    int drop = 0;
    while (drop < size && ends[drop] <= seq) {
      drop++;
    }
    if (drop > 0) {
      System.arraycopy(starts, drop, starts, 0, size - drop);
      System.arraycopy(ends, drop, ends, 0, size - drop);
      size -= drop;
    }
    if (size > 0 && starts[0] < seq) {
      starts[0] = seq;
    }
  }

  void clear() {
    size = 0;
  }

  private int find(long seq) {
    int lo = 0;
    int hi = size - 1;
    int found = -1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      if (starts[mid] <= seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private void insertAt(int i, long start, long end) {
    if (size == starts.length) {
      starts = java.util.Arrays.copyOf(starts, size * 2);
      ends = java.util.Arrays.copyOf(ends, size * 2);
    }
    System.arraycopy(starts, i, starts, i + 1, size - i);
    System.arraycopy(ends, i, ends, i + 1, size - i);
    starts[i] = start;
    ends[i] = end;
    size++;
  }

  private void removeAt(int i) {
    System.arraycopy(starts, i + 1, starts, i, size - i - 1);
    System.arraycopy(ends, i + 1, ends, i, size - i - 1);
    size--;
  }
}
