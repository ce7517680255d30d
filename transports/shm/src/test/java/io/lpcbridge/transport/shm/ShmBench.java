package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.PeerProcess;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A throwaway-style measurement of the raw transport, without the RPC layer, client and server in
 * separate processes. Not a test; run it by hand:
 *
 * <pre>
 * taskset -c 0 java ... ShmBench pingpong SERVER_CPUS ROUNDS SIZE [key=value ...]
 * taskset -c 0 java ... ShmBench stream   SERVER_CPUS COUNT  SIZE [key=value ...]
 * </pre>
 *
 * This process is the client; it launches the server as a child with {@code taskset -c
 * SERVER_CPUS} ({@code -} for no pinning). {@code pingpong}: the client's reader thread answers
 * each echo with the next ping, so a round trip has no thread hand-off; prints p50/p90/p99 of
 * ROUNDS round trips after as many warm-up ones. {@code stream}: the client sends COUNT messages
 * as fast as the ring and its backpressure allow; the server counts them and reports messages/s
 * and bytes/s from its first to its last message. The options (idle=..., ringSize=...) apply to
 * both ends.
 */
public final class ShmBench {
  private ShmBench() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("serve")) {
      serve(args);
      return;
    }
    String mode = args[0];
    String cpus = args[1];
    long n = Long.parseLong(args[2]);
    int size = Math.toIntExact(TransportOptions.defaults().with("s", args[3]).getInt("s", 0));
    List<String> opts = List.of(args).subList(4, args.length);
    TransportOptions options = options(opts);
    String name = "bench-" + ProcessHandle.current().pid();
    List<String> prefix = cpus.equals("-") ? List.of() : List.of("taskset", "-c", cpus);
    List<String> serverArgs = new ArrayList<>(List.of("serve", name, mode));
    serverArgs.addAll(opts);
    try (PeerProcess server = PeerProcess.start(prefix, List.of("-Xmx1g"), ShmBench.class, serverArgs.toArray(String[]::new))) {
      server.awaitLine("LISTENING", Duration.ofSeconds(30));
      Target target = Target.parse("shm://" + name);
      if (mode.equals("pingpong")) {
        pingPong(target, options, n, size);
      } else {
        stream(target, options, n, size);
        System.out.println("RESULT " + server.awaitLine("RESULT", Duration.ofMinutes(5)));
      }
      // The server exits once our connection is closed, removing its socket.
      server.awaitExit(Duration.ofSeconds(30));
    }
    System.exit(0);
  }

  private static TransportOptions options(List<String> kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String s : kv) {
      int eq = s.indexOf('=');
      m.put(s.substring(0, eq), s.substring(eq + 1));
    }
    return TransportOptions.of(m);
  }

  private static void pingPong(Target target, TransportOptions options, long rounds, int size) throws Exception {
    long total = 2 * rounds;
    long[] rtt = new long[(int) rounds];
    CountDownLatch done = new CountDownLatch(1);
    ByteBuffer ping = ByteBuffer.allocateDirect(size);
    Connection c = Transports.connect(target, options);
    long[] state = {0, 0}; // count, sentAt
    c.start(
        new MessageHandler() {
          @Override
          public void onMessage(ByteBuffer message) {
            long now = System.nanoTime();
            long i = state[0]++;
            if (i >= rounds) {
              rtt[(int) (i - rounds)] = now - state[1];
            }
            if (i + 1 < total) {
              state[1] = System.nanoTime();
              c.send(ping.duplicate());
            } else {
              done.countDown();
            }
          }

          @Override
          public void onClosed(Throwable cause) {
            done.countDown();
          }
        });
    state[1] = System.nanoTime();
    c.send(ping.duplicate());
    if (!done.await(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("ping-pong did not finish");
    }
    Arrays.sort(rtt);
    System.out.printf(
        "RESULT pingpong %d B, %s | %s: p50 %.2f us  p90 %.2f us  p99 %.2f us  (%,d round trips after %,d warm-up)%n",
        size, c.localAddress(), c.remoteAddress(), rtt[(int) (rounds / 2)] / 1e3, rtt[(int) (rounds * 9 / 10)] / 1e3,
        rtt[(int) (rounds * 99 / 100)] / 1e3, rounds, rounds);
    c.close();
  }

  private static void stream(Target target, TransportOptions options, long count, int size) throws Exception {
    Semaphore writable = new Semaphore(0);
    Connection c = Transports.connect(target, options);
    c.start(
        new MessageHandler() {
          @Override
          public void onMessage(ByteBuffer message) {}

          @Override
          public void onWritable() {
            writable.release();
          }

          @Override
          public void onClosed(Throwable cause) {
            writable.release();
          }
        });
    ByteBuffer m = ByteBuffer.allocateDirect(size);
    for (long i = 0; i < count; i++) {
      while (!c.isWritable()) {
        writable.tryAcquire(10, TimeUnit.MILLISECONDS);
      }
      c.send(m.duplicate());
    }
    c.close();
  }

  /** The server: echoes (pingpong) or counts (stream). */
  private static void serve(String[] args) throws Exception {
    String name = args[1];
    boolean echo = args[2].equals("pingpong");
    TransportOptions options = options(List.of(args).subList(3, args.length));
    Listener l = Transports.listen(Target.parse("shm://" + name), options);
    CountDownLatch closed = new CountDownLatch(1);
    long[] stats = {0, 0, 0, 0}; // messages, bytes, first, last
    l.start(
        c ->
            c.start(
                new MessageHandler() {
                  @Override
                  public void onMessage(ByteBuffer message) {
                    if (echo) {
                      c.send(message);
                      return;
                    }
                    long now = System.nanoTime();
                    if (stats[0]++ == 0) {
                      stats[2] = now;
                    }
                    stats[1] += message.remaining();
                    stats[3] = now;
                  }

                  @Override
                  public void onClosed(Throwable cause) {
                    closed.countDown();
                  }
                }));
    System.out.println("LISTENING " + l.localTarget());
    closed.await();
    if (!echo) {
      double s = (stats[3] - stats[2]) / 1e9;
      System.out.printf("RESULT stream: %,d messages, %,d bytes in %.3f s: %,.0f messages/s, %.2f GB/s%n",
          stats[0], stats[1], s, stats[0] / s, stats[1] / s / 1e9);
    }
    l.close();
    System.exit(0);
  }
}
