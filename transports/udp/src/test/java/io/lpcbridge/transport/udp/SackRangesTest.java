package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The receiver's SACK ranges and the sequence-number ring, against simple models. */
class SackRangesTest {

  private static List<String> ranges(SackRanges r) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < r.size(); i++) {
      out.add(r.start(i) + "-" + r.end(i));
    }
    return out;
  }

  @Test
  void addsMergeWithNeighbours() {
    SackRanges r = new SackRanges();
    r.add(5);
    r.add(7);
    assertEquals(List.of("5-6", "7-8"), ranges(r));
    r.add(6);
    assertEquals(List.of("5-8"), ranges(r), "a gap filled joins both sides");
    r.add(3);
    r.add(10);
    r.add(4);
    assertEquals(List.of("3-8", "10-11"), ranges(r));
    r.removeBelow(7);
    assertEquals(List.of("7-8", "10-11"), ranges(r));
    r.removeBelow(9);
    assertEquals(List.of("10-11"), ranges(r));
  }

  @Test
  void matchesASetUnderRandomInsertsAndTrims() {
    SplittableRandom random = new SplittableRandom(3);
    SackRanges r = new SackRanges();
    TreeSet<Long> model = new TreeSet<>();
    long floor = 0;
    for (int i = 0; i < 20_000; i++) {
      long s = floor + random.nextInt(200);
      r.add(s);
      model.add(s);
      if (random.nextInt(50) == 0) {
        floor += random.nextInt(30);
        r.removeBelow(floor);
        model.headSet(floor).clear();
      }
      if (i % 100 == 0) {
        TreeSet<Long> fromRanges = new TreeSet<>();
        for (int k = 0; k < r.size(); k++) {
          assertTrue(k == 0 || r.start(k) > r.end(k - 1), "disjoint, non-adjacent, ascending");
          for (long x = r.start(k); x < r.end(k); x++) {
            fromRanges.add(x);
          }
        }
        assertEquals(model, fromRanges);
      }
    }
  }

  @Test
  void theRingHoldsOnlyItsWindowAndGrowsOnDemand() {
    SeqRing<String> ring = new SeqRing<>(100);
    assertThrows(IllegalArgumentException.class, () -> ring.put(100, "past the window"));
    ring.put(99, "last");
    ring.put(0, "first");
    assertEquals("last", ring.get(99));
    ring.advanceTo(50);
    assertNull(ring.get(0), "dropped below the base");
    assertFalse(ring.inRange(49));
    assertTrue(ring.inRange(149));
    ring.put(149, "new last");
    assertEquals("last", ring.get(99));
    assertEquals("new last", ring.remove(149));
    assertNull(ring.get(149));
  }
}
