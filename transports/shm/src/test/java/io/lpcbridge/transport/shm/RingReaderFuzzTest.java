package io.lpcbridge.transport.shm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The record reader over arbitrary segment contents: whatever a producer scribbles into the data
 * area and publishes as Tail, the reader delivers only in-bounds messages no longer than
 * maxMessageSize, never moves Head backwards or past Tail, and fails with {@link
 * ShmProtocolException} and nothing else.
 *
 * <p>With {@code JAZZER_FUZZ=1} the {@link FuzzTest} fuzzes, starting from the seeds in {@code
 * RingReaderFuzzTestInputs}; without it (CI), it replays those seeds, and {@link
 * #replaysSeedsAndTheirMutations()} runs the target over the seeds and thousands of seeded random
 * mutations of them, so the regression run does not depend on the fuzzer.
 *
 * <p>Input format: a producer's timeline, so seeds can be recorded from a real {@link RingWriter}.
 *
 * <pre>
 *  byte 0       ring capacity: 64 &lt;&lt; (b &amp; 3), i.e. 64 to 512 bytes
 *  bytes 1-2    maxMessageSize - 1 (unsigned, big-endian), i.e. 1 to 65536
 *  then operations, until the input ends:
 *   0x00 offset(16) length(16) bytes...   write bytes into the data area at offset (both wrapped
 *                                         and clipped to the area)
 *   any other byte, Tail(64)              publish Tail, then let the reader read everything
 * </pre>
 */
class RingReaderFuzzTest {
  private static final int WRITE = 0;
  private static final int PUBLISH = 1;

  @FuzzTest(maxDuration = "60s")
  void readerDeliversInBoundsOrRefuses(byte[] input) {
    runTarget(input);
  }

  @Test
  void replaysSeedsAndTheirMutations() {
    List<Seed> seeds = seeds();
    SplittableRandom random = new SplittableRandom(3);
    for (Seed seed : seeds) {
      assertEquals(seed.messages(), runTarget(seed.input()), "messages the valid seed " + seed.name() + " delivers");
      for (int i = 0; i < 500; i++) {
        runTarget(mutate(seed.input(), random));
      }
    }
    for (int i = 0; i < 2000; i++) {
      byte[] noise = new byte[random.nextInt(700)];
      random.nextBytes(noise);
      runTarget(noise);
    }
  }

  /** @return the number of messages delivered, or -1 once the reader refused the contents */
  static int runTarget(byte[] input) {
    ByteBuffer in = ByteBuffer.wrap(input);
    int capacity = 64 << ((in.hasRemaining() ? in.get() : 0) & 3);
    int maxMessageSize = 1 + (in.remaining() >= 2 ? Short.toUnsignedInt(in.getShort()) : 0);
    int[] delivered = {0};
    try (TestRing r = new TestRing(capacity, maxMessageSize)) {
      long previousHead = 0;
      while (in.hasRemaining()) {
        int op = in.get();
        if (op == WRITE) {
          if (in.remaining() < 4) {
            break;
          }
          int offset = Short.toUnsignedInt(in.getShort()) & (capacity - 1);
          int length = Math.min(Math.min(Short.toUnsignedInt(in.getShort()), in.remaining()), capacity - offset);
          MemorySegment.copy(MemorySegment.ofArray(input), in.position(), r.segment, TestRing.DATA_AT + offset, length);
          in.position(in.position() + length);
          continue;
        }
        if (in.remaining() < Long.BYTES) {
          break;
        }
        long tail = in.getLong();
        r.setTail(tail);
        try {
          r.reader.read(
              m -> {
                assertTrue(m.remaining() <= maxMessageSize, "delivered " + m.remaining() + " > maxMessageSize " + maxMessageSize);
                if (m.isDirect()) {
                  assertTrue(m.position() >= 0 && m.limit() <= capacity, "a view outside the data area");
                }
                byte[] copy = new byte[m.remaining()];
                m.duplicate().get(copy); // every byte of it is readable
                delivered[0]++;
              },
              Integer.MAX_VALUE);
        } catch (ShmProtocolException refused) {
          return -1; // the connection would fail here: fine
        }
        long head = r.head();
        assertTrue(head == previousHead || (head > previousHead && head <= tail),
            "Head went from " + previousHead + " to " + head + " with Tail " + tail);
        previousHead = head;
      }
    }
    return delivered[0];
  }

  private static byte[] mutate(byte[] seed, SplittableRandom random) {
    byte[] m = seed.clone();
    int flips = 1 + random.nextInt(4);
    for (int i = 0; i < flips && m.length > 0; i++) {
      int at = random.nextInt(m.length);
      switch (random.nextInt(3)) {
        case 0 -> m[at] ^= (byte) (1 << random.nextInt(8));
        case 1 -> m[at] = (byte) random.nextInt(256);
        default -> m[at] = (byte) (random.nextBoolean() ? 0 : 0xFF);
      }
    }
    return m;
  }

  record Seed(String name, byte[] input, int messages) {}

  /**
   * Timelines recorded from a real writer: whole messages, wraps with padding, fragments of
   * messages as large as the ring and larger, a CLOSE.
   */
  static List<Seed> seeds() {
    List<Seed> seeds = new ArrayList<>();
    seeds.add(record("small", 256, new int[] {0, 1, 13, 56}, 0xFFFF));
    seeds.add(record("wrap", 256, new int[] {88, 88, 0, 56, 120, 7}, 0xFFFF));
    seeds.add(record("one-over-a-record", 256, new int[] {121}, 0xFFFF));
    seeds.add(record("ring-size", 256, new int[] {256}, 0xFFFF));
    seeds.add(record("larger-than-ring", 256, new int[] {700, 3}, 0xFFFF));
    seeds.add(record("close", 256, new int[] {5, -1}, 0xFFFF));
    seeds.add(record("tiny-ring", 64, new int[] {3, 24, 100}, 199));
    return seeds;
  }

  /** Writes {@code sizes} (-1: a CLOSE record) with a real writer, recording its timeline. */
  private static Seed record(String name, int capacity, int[] sizes, int maxMessageSizeMinusOne) {
    try (TestRing r = new TestRing(capacity);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(Integer.numberOfTrailingZeros(capacity / 64));
      out.writeShort(maxMessageSizeMinusOne);
      int messages = 0;
      for (int i = 0; i < sizes.length; i++) {
        if (sizes[i] < 0) {
          long before = r.tail();
          r.writer.tryWrite(RecordDescriptor.CLOSE, ByteBuffer.allocate(0), 0, 0, 0);
          step(r, out, before);
          continue;
        }
        byte[] m = TestRing.bytes(sizes[i], i);
        int sent = -1;
        while (sent != m.length) {
          long before = r.tail();
          sent = r.writer.writeMessage(ByteBuffer.wrap(m), 0, m.length, sent);
          step(r, out, before);
        }
        messages++;
      }
      out.flush();
      return new Seed(name, bytes.toByteArray(), messages);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Records what the writer wrote since {@code before} and its Tail, then consumes it. */
  private static void step(TestRing r, DataOutputStream out, long before) throws IOException {
    long tail = r.tail();
    for (long p = before; p < tail; ) {
      int index = (int) (p & (r.capacity - 1));
      int length = (int) Math.min(tail - p, r.capacity - index);
      out.writeByte(WRITE);
      out.writeShort(index);
      out.writeShort(length);
      out.write(r.segment.asSlice(TestRing.DATA_AT + index, length).toArray(ValueLayout.JAVA_BYTE));
      p += length;
    }
    out.writeByte(PUBLISH);
    out.writeLong(tail);
    r.readAll();
  }

  /** Writes the seeds as the fuzzer's inputs: {@code java ... RingReaderFuzzTest DIR}. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    for (Seed s : seeds()) {
      Files.write(dir.resolve(s.name()), s.input());
    }
  }
}
