package io.lpcbridge.transport.shm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One ring in private memory for stepping by hand: a control block at offset 0, the data area at
 * {@link #DATA_AT}, a writer and a reader on it, and raw accessors to scribble like a hostile peer.
 */
final class TestRing implements AutoCloseable {
  static final long DATA_AT = SegmentDescriptor.PAGE;

  final Arena arena = Arena.ofConfined();
  final MemorySegment segment;
  final int capacity;
  final RingWriter writer;
  final RingReader reader;
  final List<byte[]> received = new ArrayList<>();
  /** Copies each delivered message into {@link #received}. */
  final Consumer<ByteBuffer> recorder =
      m -> {
        byte[] b = new byte[m.remaining()];
        m.duplicate().get(b);
        received.add(b);
      };

  TestRing(int capacity) {
    this(capacity, Integer.MAX_VALUE);
  }

  TestRing(int capacity, int maxMessageSize) {
    this.capacity = capacity;
    this.segment = arena.allocate(DATA_AT + capacity, SegmentDescriptor.PAGE);
    this.writer = new RingWriter(segment, 0, DATA_AT, capacity, "test ring");
    this.reader = new RingReader(segment, 0, DATA_AT, capacity, maxMessageSize, "test ring");
  }

  long tail() {
    return segment.get(ValueLayout.JAVA_LONG, SegmentDescriptor.TAIL_OFFSET);
  }

  long head() {
    return segment.get(ValueLayout.JAVA_LONG, SegmentDescriptor.HEAD_OFFSET);
  }

  void setTail(long tail) {
    segment.set(ValueLayout.JAVA_LONG, SegmentDescriptor.TAIL_OFFSET, tail);
  }

  void setHead(long head) {
    segment.set(ValueLayout.JAVA_LONG, SegmentDescriptor.HEAD_OFFSET, head);
  }

  /** Writes a raw record header at data offset {@code index}. */
  void header(int index, int length, int typeWord) {
    segment.set(ValueLayout.JAVA_INT, DATA_AT + index + RecordDescriptor.LENGTH_OFFSET, length);
    segment.set(ValueLayout.JAVA_INT, DATA_AT + index + RecordDescriptor.TYPE_OFFSET, typeWord);
  }

  void putInt(int index, int value) {
    segment.set(ValueLayout.JAVA_INT, DATA_AT + index, value);
  }

  /** Writes a whole message, failing if it does not fit now. */
  void write(byte[] message) throws ShmProtocolException {
    int sent = writer.writeMessage(ByteBuffer.wrap(message), 0, message.length, -1);
    if (sent != message.length) {
      throw new AssertionError("message of " + message.length + " bytes did not fit whole (" + sent + " in)");
    }
  }

  /** Reads everything published. */
  int readAll() throws ShmProtocolException {
    return reader.read(recorder, Integer.MAX_VALUE);
  }

  static byte[] bytes(int size, int seed) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = (byte) (seed * 31 + i * 7 + (i >>> 8));
    }
    return b;
  }

  @Override
  public void close() {
    arena.close();
  }
}
