package io.lpcbridge.transport.shm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * The shared-memory ring alone ({@link RingWriter} and {@link RingReader} on one segment in this
 * process, no doorbell, no transport threads): what a record costs to publish and to consume,
 * and how many messages per second the ring itself carries between two spinning threads. The
 * cross-process figures, with the idle strategies and the RPC layer, are {@code bridge bench}'s.
 *
 * <p>It lives in the ring's package to reach its package-private classes; the bench module has
 * transport-shm on its class path (through bridge-client).
 *
 * <ul>
 *   <li>{@code publishConsume}: one thread writes a message and reads it back: the per-record
 *       cost of both ends, bounds checks included, without any cache-line transfer.
 *   <li>{@code pipeline}: a producer thread and a consumer thread, each spinning; the secondary
 *       result {@code messages} is whole messages per second through the ring (the primary
 *       scores count calls, including attempts on a full or empty ring).
 * </ul>
 */
@BenchmarkMode(org.openjdk.jmh.annotations.Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingBenchmark {

  /** One ring in private memory, laid out as in a real segment: control block, then data. */
  @State(Scope.Group)
  public static class Ring {
    @Param({"64", "1024", "65536"})
    public int size;

    @Param({"1048576"})
    public int ringSize;

    Arena arena;
    RingWriter writer;
    RingReader reader;
    ByteBuffer message;

    @Setup(Level.Trial)
    public void open() {
      arena = Arena.ofShared();
      long dataAt = SegmentDescriptor.PAGE;
      MemorySegment segment = arena.allocate(dataAt + ringSize, SegmentDescriptor.PAGE);
      writer = new RingWriter(segment, 0, dataAt, ringSize, "bench ring");
      reader = new RingReader(segment, 0, dataAt, ringSize, Math.max(size, 1 << 20), "bench ring");
      message = ByteBuffer.allocateDirect(size);
      for (int i = 0; i < size; i++) {
        message.put(i, (byte) i);
      }
    }

    @TearDown(Level.Trial)
    public void close() {
      arena.close();
    }
  }

  /** Per consuming thread: touches each message in place, as a zero-copy handler would, and counts it. */
  @State(Scope.Thread)
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  public static class Consumed {
    /** Whole messages delivered: in {@code pipeline}, the ring's messages per second. */
    public long messages;

    Consumer<ByteBuffer> consumer;

    @Setup(Level.Trial)
    public void open(Blackhole bh) {
      consumer =
          m -> {
            bh.consume(m.get(m.position()));
            messages++;
          };
    }
  }

  /** The producer's progress through a message the ring could not take whole. */
  @State(Scope.Thread)
  public static class Produced {
    int sent = -1;
  }

  @Benchmark
  @Group("publishConsume")
  @GroupThreads(1)
  public int publishConsume(Ring r, Consumed c) throws ShmProtocolException {
    int sent = r.writer.writeMessage(r.message, 0, r.size, -1);
    if (sent != r.size) {
      throw new IllegalStateException("a " + r.size + "-byte message did not fit an empty " + r.ringSize + "-byte ring");
    }
    return r.reader.read(c.consumer, Integer.MAX_VALUE);
  }

  @Benchmark
  @Group("pipeline")
  @GroupThreads(1)
  public int produce(Ring r, Produced p) throws ShmProtocolException {
    int sent = r.writer.writeMessage(r.message, 0, r.size, p.sent);
    p.sent = sent == r.size ? -1 : sent;
    return sent;
  }

  @Benchmark
  @Group("pipeline")
  @GroupThreads(1)
  public int consume(Ring r, Consumed c) throws ShmProtocolException {
    return r.reader.read(c.consumer, 64);
  }
}
