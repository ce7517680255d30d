package io.lpcbridge.transport.shm;

import static io.lpcbridge.transport.shm.RecordDescriptor.HEADER_LENGTH;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ring stepped by hand: one writer call, one reader call at a time, positions checked. */
class RingTest {
  private static final int CAPACITY = 256;
  /** maxPayload of a 256-byte ring: 128 - 8. */
  private static final int MAX_PAYLOAD = 120;

  @Test
  void emptyRingDeliversNothing() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      assertFalse(r.reader.hasData());
      assertEquals(0, r.readAll());
      assertEquals(0, r.received.size());
    }
  }

  @Test
  void oneMessageAdvancesTailThenHeadByItsAlignedRecord() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      assertEquals(MAX_PAYLOAD, r.writer.maxPayload());
      byte[] m = TestRing.bytes(13, 1);
      r.write(m);
      assertEquals(24, r.tail(), "8-byte header + 13 bytes, aligned to 8");
      assertEquals(0, r.head(), "nothing consumed yet");
      assertTrue(r.reader.hasData());
      assertEquals(1, r.readAll());
      assertArrayEquals(m, r.received.getFirst());
      assertEquals(24, r.head(), "released after delivery");
      assertFalse(r.reader.hasData());
    }
  }

  @Test
  void emptyMessageIsARecordOfItsOwn() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.write(new byte[0]);
      assertEquals(HEADER_LENGTH, r.tail());
      assertEquals(1, r.readAll());
      assertEquals(0, r.received.getFirst().length);
    }
  }

  @Test
  void aRecordThatWouldRunPastTheEndIsPrecededByPaddingAndStartsAtZero() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      // 200 bytes in: two records of 96 (88 + 8) and one of 8.
      r.write(TestRing.bytes(88, 1));
      r.write(TestRing.bytes(88, 2));
      r.write(new byte[0]);
      assertEquals(200, r.tail());
      assertEquals(3, r.readAll());
      // 56 bytes to the end; a 64-byte record does not fit there: PADDING of 56, record at 0.
      byte[] wrapped = TestRing.bytes(56, 3);
      r.write(wrapped);
      assertEquals(200 + 56 + 64, r.tail(), "padding + the record");
      assertEquals(RecordDescriptor.PADDING, r.segment.get(ValueLayout.JAVA_INT, TestRing.DATA_AT + 200 + 4));
      assertEquals(56 - HEADER_LENGTH, r.segment.get(ValueLayout.JAVA_INT, TestRing.DATA_AT + 200));
      assertEquals(2, r.readAll(), "the padding and the message");
      assertArrayEquals(wrapped, r.received.get(3));
      assertEquals(r.tail(), r.head());
      // And again, going round a second time.
      for (int i = 0; i < 20; i++) {
        byte[] m = TestRing.bytes(1 + i * 5, i);
        r.write(m);
        r.readAll();
        assertArrayEquals(m, r.received.getLast());
      }
      assertEquals(r.tail(), r.head());
      assertTrue(r.tail() > 2L * CAPACITY, "went round more than twice");
    }
  }

  @Test
  void aRecordThatFitsExactlyUpToTheEndNeedsNoPadding() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.write(TestRing.bytes(MAX_PAYLOAD, 1)); // 128
      r.readAll();
      r.write(TestRing.bytes(MAX_PAYLOAD, 2)); // 128, ends exactly at 256
      assertEquals(256, r.tail());
      r.readAll();
      r.write(TestRing.bytes(1, 3));
      assertEquals(256 + 16, r.tail(), "the next record starts at offset 0 with no padding");
      r.readAll();
      assertEquals(3, r.received.size());
    }
  }

  @Test
  void aFullRingRefusesWithoutWritingAndTakesMoreOnceTheConsumerFreesSpace() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      byte[] m = TestRing.bytes(56, 7); // 64-byte records
      for (int i = 0; i < 4; i++) {
        r.write(m);
      }
      assertEquals(CAPACITY, r.tail(), "full");
      long tail = r.tail();
      assertEquals(-1, r.writer.writeMessage(ByteBuffer.wrap(m), 0, m.length, -1), "refused");
      assertEquals(-1, r.writer.writeMessage(ByteBuffer.allocate(0), 0, 0, -1), "even an empty message");
      assertEquals(tail, r.tail(), "a refused write publishes nothing");
      assertFalse(r.writer.requestSpace(m.length), "no space appeared");
      assertFalse(r.writer.spaceRequestAnswered());

      assertEquals(1, r.reader.read(r.recorder, 1), "the consumer takes one");
      assertTrue(r.reader.takeSpaceRequest(), "and sees the request");
      assertTrue(r.writer.spaceRequestAnswered());
      assertFalse(r.reader.takeSpaceRequest(), "a request is answered once");
      r.write(m);
      assertEquals(4, r.readAll());
      assertEquals(5, r.received.size());
      for (byte[] got : r.received) {
        assertArrayEquals(m, got);
      }
    }
  }

  @Test
  void aMessageExactlyTheSizeOfTheRingGoesInFragments() throws Exception {
    stepFragmented(CAPACITY);
  }

  @Test
  void aMessageLargerThanTheRingGoesInFragments() throws Exception {
    stepFragmented(5 * CAPACITY + 3);
  }

  @Test
  void aMessageOneByteOverTheRecordLimitIsFragmented() throws Exception {
    stepFragmented(MAX_PAYLOAD + 1);
  }

  /** Writes what fits, reads what is there, until the message is through; checks the records. */
  private static void stepFragmented(int size) throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      byte[] m = TestRing.bytes(size, 9);
      ByteBuffer src = ByteBuffer.wrap(m);
      List<Integer> types = new ArrayList<>();
      int sent = -1;
      int steps = 0;
      while (sent != size) {
        int before = sent;
        sent = r.writer.writeMessage(src, 0, size, sent);
        assertTrue(sent > before, "progress at step " + steps);
        // Look at what was written before reading it.
        for (long p = r.head(); p < r.tail(); ) {
          int index = (int) (p % CAPACITY);
          int length = r.segment.get(ValueLayout.JAVA_INT, TestRing.DATA_AT + index);
          types.add(r.segment.get(ValueLayout.JAVA_INT, TestRing.DATA_AT + index + 4));
          p += RecordDescriptor.recordLength(length);
        }
        r.readAll();
        if (sent != size) {
          assertTrue(r.received.isEmpty(), "nothing delivered before the LAST fragment");
          assertTrue(r.reader.assembling() > 0, "reassembly in progress");
        }
        steps++;
      }
      assertEquals(1, r.received.size());
      assertArrayEquals(m, r.received.getFirst());
      assertEquals(-1, r.reader.assembling());
      List<Integer> fragments = types.stream().filter(t -> t != RecordDescriptor.PADDING).toList();
      assertEquals(RecordDescriptor.FIRST, fragments.getFirst());
      assertEquals(RecordDescriptor.LAST, fragments.getLast());
      for (int t : fragments.subList(1, fragments.size() - 1)) {
        assertEquals(RecordDescriptor.MIDDLE, t);
      }
      int expected = 1 + (int) Math.ceil((size - (MAX_PAYLOAD - 8)) / (double) MAX_PAYLOAD);
      assertEquals(expected, fragments.size(), "fragments of " + size + " bytes");
    }
  }

  @Test
  void aWholeMessageIsHandedOverInPlaceAndReleasedOnlyAfterTheHandlerReturns() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.write(TestRing.bytes(40, 1));
      List<Long> headDuring = new ArrayList<>();
      r.reader.read(
          m -> {
            assertTrue(m.isDirect(), "a view of the ring, not a copy");
            assertSame(ByteOrder.BIG_ENDIAN, m.order());
            assertEquals(HEADER_LENGTH, m.position(), "positioned at the payload inside the data area");
            // A write to the ring's memory shows through the buffer: it is the ring itself.
            r.segment.set(ValueLayout.JAVA_BYTE, TestRing.DATA_AT + HEADER_LENGTH, (byte) 0x5A);
            assertEquals(0x5A, m.get(m.position()));
            headDuring.add(r.head());
            m.position(m.limit()); // handlers may move position and limit
            m.order(ByteOrder.LITTLE_ENDIAN);
          },
          1);
      assertEquals(List.of(0L), headDuring, "not released during onMessage");
      assertEquals(48, r.head(), "released after");
      r.write(TestRing.bytes(3, 2));
      r.readAll();
      assertEquals(3, r.received.getFirst().length, "the next delivery resets position, limit and order");
    }
  }

  @Test
  void aThrowingHandlerLeavesItsRecordUnreleased() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.write(TestRing.bytes(10, 1));
      RuntimeException boom = new IllegalStateException("boom");
      assertSame(boom, assertThrows(IllegalStateException.class, () -> r.reader.read(m -> { throw boom; }, 10)));
      assertEquals(0, r.head());
    }
  }

  @Test
  void closeEndsTheDirectionAndNothingAfterItIsRead() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.write(TestRing.bytes(5, 1));
      assertTrue(r.writer.tryWrite(RecordDescriptor.CLOSE, ByteBuffer.allocate(0), 0, 0, 0));
      r.write(TestRing.bytes(6, 2)); // a misbehaving producer writing after CLOSE
      assertEquals(2, r.readAll());
      assertTrue(r.reader.closeSeen());
      assertEquals(1, r.received.size());
      assertEquals(0, r.readAll());
    }
  }

  // ------------------------------------------------------------------ what a hostile producer can do

  private static ShmProtocolException corrupt(TestRing r) {
    ShmProtocolException e = assertThrows(ShmProtocolException.class, r::readAll);
    assertTrue(e.getMessage().startsWith("test ring: "), e.getMessage());
    assertTrue(r.received.isEmpty(), "nothing delivered from a corrupt ring");
    return e;
  }

  @Test
  void tailMoreThanOneCapacityAheadIsRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.setTail(CAPACITY + 8);
      assertTrue(corrupt(r).getMessage().contains("Tail " + (CAPACITY + 8)));
    }
  }

  @Test
  void tailBehindHeadIsRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.setTail(-8);
      corrupt(r);
    }
  }

  @Test
  void unalignedTailIsRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 0, RecordDescriptor.MESSAGE);
      r.setTail(12);
      assertTrue(corrupt(r).getMessage().contains("aligned"));
    }
  }

  @Test
  void negativeOrOversizedLengthsAreRefused() {
    for (int length : new int[] {-1, Integer.MIN_VALUE, CAPACITY - HEADER_LENGTH + 1, Integer.MAX_VALUE}) {
      try (TestRing r = new TestRing(CAPACITY)) {
        r.header(0, length, RecordDescriptor.MESSAGE);
        r.setTail(CAPACITY);
        assertTrue(corrupt(r).getMessage().contains("length " + length), "length " + length);
      }
    }
  }

  @Test
  void aRecordRunningPastTailIsRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 100, RecordDescriptor.MESSAGE);
      r.setTail(16);
      assertTrue(corrupt(r).getMessage().contains("past Tail"));
    }
  }

  @Test
  void aWholeMessageOverTheRecordLimitIsRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, MAX_PAYLOAD + 8, RecordDescriptor.MESSAGE);
      r.setTail(CAPACITY);
      assertTrue(corrupt(r).getMessage().contains("over the ring's limit"));
    }
  }

  @Test
  void unknownTypesAndReservedBitsAreRefused() {
    for (int typeWord : new int[] {0, 7, 255, RecordDescriptor.MESSAGE | 0x100, -1}) {
      try (TestRing r = new TestRing(CAPACITY)) {
        r.header(0, 0, typeWord);
        r.setTail(8);
        corrupt(r);
      }
    }
  }

  @Test
  void paddingThatDoesNotReachTheEndIsRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 8, RecordDescriptor.PADDING);
      r.setTail(16);
      assertTrue(corrupt(r).getMessage().contains("PADDING"));
    }
  }

  @Test
  void fragmentsOutOfOrderAreRefused() {
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 8, RecordDescriptor.MIDDLE);
      r.setTail(16);
      assertTrue(corrupt(r).getMessage().contains("without a FIRST"));
    }
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 16, RecordDescriptor.FIRST);
      r.putInt(8, 100);
      r.header(24, 0, RecordDescriptor.MESSAGE);
      r.setTail(32);
      assertTrue(corrupt(r).getMessage().contains("in the middle of a fragmented message"));
    }
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 16, RecordDescriptor.FIRST);
      r.putInt(8, 100);
      r.header(24, 8, RecordDescriptor.LAST); // 8 + 8 = 16 of 100
      r.setTail(40);
      assertTrue(corrupt(r).getMessage().contains("92 of the 100-byte message are missing"));
    }
    try (TestRing r = new TestRing(CAPACITY)) {
      r.header(0, 16, RecordDescriptor.FIRST);
      r.putInt(8, 10); // announces 10, carries 8: nothing for later fragments... but 8 < 10 is fine
      r.header(24, 8, RecordDescriptor.MIDDLE); // 8 more would overrun 10
      r.setTail(40);
      assertTrue(corrupt(r).getMessage().contains("MIDDLE"));
    }
  }

  @Test
  void aFirstFragmentAnnouncingTooMuchOrTooLittleIsRefused() {
    try (TestRing r = new TestRing(CAPACITY, 1000)) {
      r.header(0, 16, RecordDescriptor.FIRST);
      r.putInt(8, 1001);
      r.setTail(24);
      ShmProtocolException e = corrupt(r);
      assertTrue(e.getMessage().contains("1001 bytes, over this side's maxMessageSize 1000"), e.getMessage());
    }
    for (int total : new int[] {-5, 0, 8}) {
      try (TestRing r = new TestRing(CAPACITY)) {
        r.header(0, 16, RecordDescriptor.FIRST);
        r.putInt(8, total);
        r.setTail(24);
        assertTrue(corrupt(r).getMessage().contains("announces a message of " + total));
      }
    }
  }

  @Test
  void aWholeMessageOverMaxMessageSizeIsRefused() throws Exception {
    try (TestRing r = new TestRing(CAPACITY, 10)) {
      r.write(TestRing.bytes(11, 1));
      assertTrue(corrupt(r).getMessage().contains("11 bytes, over this side's maxMessageSize 10"));
    }
  }

  @Test
  void aHeadMovingBackwardsOrPastTailIsRefusedByTheWriter() throws Exception {
    try (TestRing r = new TestRing(CAPACITY)) {
      byte[] m = TestRing.bytes(56, 1);
      for (int i = 0; i < 4; i++) {
        r.write(m);
      }
      r.setHead(CAPACITY + 64);
      ShmProtocolException e =
          assertThrows(ShmProtocolException.class, () -> r.writer.writeMessage(ByteBuffer.wrap(m), 0, 56, -1));
      assertTrue(e.getMessage().contains("Head " + (CAPACITY + 64)), e.getMessage());
      r.setHead(3);
      assertThrows(ShmProtocolException.class, () -> r.writer.writeMessage(ByteBuffer.wrap(m), 0, 56, -1));
      r.setHead(-64);
      assertThrows(ShmProtocolException.class, () -> r.writer.writeMessage(ByteBuffer.wrap(m), 0, 56, -1));
    }
  }
}
