package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.Futex;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The other process of the shm tests. Every mode connects to TARGET as a client.
 *
 * <pre>
 * ShmTestPeer flood   TARGET COUNT [key=value ...]   send MixedMessages 0..COUNT-1, close, print DONE
 * ShmTestPeer corrupt TARGET WHAT  [key=value ...]   send 3 messages, wait for CORRUPT on stdin, then
 *                                                    scribble WHAT (tail, length, type, head, garbage)
 *                                                    into the live segment and print CORRUPTED
 * </pre>
 *
 * It prints {@code CONNECTED} once connected and exits when its standard input ends (the test JVM
 * is gone) or after two minutes.
 */
final class ShmTestPeer {
  private ShmTestPeer() {}

  public static void main(String[] args) throws Exception {
    Thread.ofPlatform().daemon().start(() -> {
      try {
        Thread.sleep(TimeUnit.MINUTES.toMillis(2));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Runtime.getRuntime().halt(3);
    });
    Target target = Target.parse(args[1]);
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 3; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      opts.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    TransportOptions options = TransportOptions.of(opts);
    switch (args[0]) {
      case "flood" -> flood(target, Long.parseLong(args[2]), options);
      case "corrupt" -> corrupt(target, args[2], options);
      default -> {
        System.err.println("unknown mode " + args[0]);
        System.exit(2);
      }
    }
  }

  private static final class Handler implements MessageHandler {
    final Semaphore writable = new Semaphore(0);
    final CountDownLatch closed = new CountDownLatch(1);
    volatile Throwable cause;
    /** Once set, the reader thread stops in onMessage, so it no longer writes Head. */
    volatile boolean stall;

    @Override
    public void onMessage(ByteBuffer message) {
      while (stall) {
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    @Override
    public void onWritable() {
      writable.release();
    }

    @Override
    public void onClosed(Throwable c) {
      cause = c;
      closed.countDown();
      writable.release();
    }
  }

  private static void flood(Target target, long count, TransportOptions options) throws Exception {
    Connection c = Transports.connect(target, options);
    Handler h = new Handler();
    c.start(h);
    System.out.println("CONNECTED " + c.localAddress());
    ByteBuffer buffer = ByteBuffer.allocate(MixedMessages.MAX_SIZE);
    for (long seq = 0; seq < count; seq++) {
      while (!c.isWritable()) {
        if (!c.isOpen()) {
          System.out.println("FAILED closed at message " + seq + ": " + h.cause);
          System.exit(1);
        }
        h.writable.tryAcquire(100, TimeUnit.MILLISECONDS);
      }
      if (!c.send(MixedMessages.encode(seq, buffer))) {
        System.out.println("FAILED send refused at message " + seq + ": " + h.cause);
        System.exit(1);
      }
    }
    c.close();
    if (!h.closed.await(60, TimeUnit.SECONDS) || h.cause != null) {
      System.out.println("FAILED close: " + h.cause);
      System.exit(1);
    }
    System.out.println("DONE " + count);
    System.exit(0);
  }

  private static void corrupt(Target target, String what, TransportOptions options) throws Exception {
    ShmConnection c = (ShmConnection) Transports.connect(target, options);
    Handler h = new Handler();
    c.start(h);
    System.out.println("CONNECTED " + c.localAddress());
    for (int i = 0; i < 3; i++) {
      c.send(ByteBuffer.wrap(("before " + i).getBytes(StandardCharsets.UTF_8)));
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line = in.readLine();
    if (!"CORRUPT".equals(line)) {
      System.exit(0);
    }
    // Stop consuming first: a live reader would overwrite a scribbled Head with a valid one.
    h.stall = true;
    Thread.sleep(100);
    MemorySegment s = c.mapping().segment();
    int capacity = c.mapping().capacity();
    long out = SegmentDescriptor.ringControlOffset(SegmentDescriptor.CLIENT_TO_SERVER);
    long outData = SegmentDescriptor.ringDataOffset(SegmentDescriptor.CLIENT_TO_SERVER, capacity);
    long in2 = SegmentDescriptor.ringControlOffset(SegmentDescriptor.SERVER_TO_CLIENT);
    long tail = s.get(ValueLayout.JAVA_LONG, out + SegmentDescriptor.TAIL_OFFSET);
    int index = (int) (tail & (capacity - 1));
    switch (what) {
      case "tail" -> s.set(ValueLayout.JAVA_LONG, out + SegmentDescriptor.TAIL_OFFSET, tail + 4L * capacity);
      case "length" -> {
        s.set(ValueLayout.JAVA_INT, outData + index, Integer.MAX_VALUE);
        s.set(ValueLayout.JAVA_INT, outData + index + 4, RecordDescriptor.MESSAGE);
        s.set(ValueLayout.JAVA_LONG, out + SegmentDescriptor.TAIL_OFFSET, tail + 8);
      }
      case "type" -> {
        s.set(ValueLayout.JAVA_INT, outData + index, 0);
        s.set(ValueLayout.JAVA_INT, outData + index + 4, 99);
        s.set(ValueLayout.JAVA_LONG, out + SegmentDescriptor.TAIL_OFFSET, tail + 8);
      }
      case "head" -> s.set(ValueLayout.JAVA_LONG, in2 + SegmentDescriptor.HEAD_OFFSET, Long.MAX_VALUE - 7);
      case "garbage" -> {
        byte[] noise = new byte[(int) s.byteSize()];
        new SplittableRandom(7).nextBytes(noise);
        MemorySegment.copy(MemorySegment.ofArray(noise), 0, s, 0, noise.length);
      }
      default -> throw new IllegalArgumentException("unknown corruption " + what);
    }
    // Wake the server's reader, whatever the scribbling did to its doorbell word.
    Futex.wake(s.asSlice(SegmentDescriptor.SERVER_DOORBELL_OFFSET, Integer.BYTES), 1);
    System.out.println("CORRUPTED " + what);
    while (in.readLine() != null) {
      // Stay until the test is done with us.
    }
    System.exit(0);
  }
}
