package io.lpcbridge.it;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.demo.v1.EchoGrpc;
import io.lpcbridge.demo.v1.EchoRequest;
import io.lpcbridge.demo.v1.EchoResponse;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one client program of the cross-host tests, unchanged whatever the transport: it asks the
 * configuration for the client named {@code echo} ({@link BridgeChannelBuilder#forClient}) and
 * never names a transport or an address. The tests switch it between tcp, grpc and udp with
 * {@code BRIDGE_CONFIG} or {@code BRIDGE_CLIENTS_ECHO_TARGET} alone.
 *
 * <pre>
 * run ROUNDS [PAYLOAD_BYTES] [DEADLINE_SECONDS]
 *     ROUNDS x the four call kinds of bridge.demo.v1.Echo (Say, Expand, Collect, Chat), each answer
 *     checked; prints "OK round R" per round, then "DONE CALLS ms"; exit 0, or "FAIL ..." and exit 1.
 * interactive
 *     one command per stdin line, one answer line each, until "quit" or end of input:
 *     all DEADLINE_MS                 the four call kinds once  -> "OK all MS" | "FAIL all KIND CODE MS: why"
 *     say DEADLINE_MS                 one unary call            -> "OK say MS" | "FAIL say CODE MS: why"
 *     stream COUNT GAP_MS DEADLINE_MS a Chat sending COUNT messages GAP_MS apart, then half-closing;
 *                                     "STREAM flowing" at the first echo, later "STREAM end CODE echoes=N ms=MS[: why]"
 * </pre>
 *
 * Every call has a deadline and every wait here is bounded by that deadline plus 5 s, so the
 * program cannot hang; a call that outlives its bound is reported as "HANG".
 */
public final class EchoClientProgram {
  private static final int STREAM_MESSAGES = 5;
  private static final long MARGIN_MS = 5_000;

  private final EchoGrpc.EchoBlockingStub blocking;
  private final EchoGrpc.EchoStub async;

  private EchoClientProgram(ManagedChannel channel) {
    this.blocking = EchoGrpc.newBlockingStub(channel);
    this.async = EchoGrpc.newStub(channel);
  }

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || !(args[0].equals("run") || args[0].equals("interactive"))) {
      System.err.println("usage: EchoClientProgram run ROUNDS [PAYLOAD_BYTES] [DEADLINE_SECONDS] | interactive");
      System.exit(2);
    }
    ManagedChannel channel = BridgeChannelBuilder.forClient("echo").build();
    int exit;
    try {
      EchoClientProgram p = new EchoClientProgram(channel);
      exit = args[0].equals("run") ? p.run(args) : p.interactive();
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    System.out.flush();
    System.exit(exit);
  }

  /** A call that did not give the right answer. */
  private static final class Wrong extends Exception {
    final String kind;
    final Status status;

    Wrong(String kind, Status status) {
      super(kind + " " + status.getCode() + (status.getDescription() != null ? ": " + status.getDescription() : ""));
      this.kind = kind;
      this.status = status;
    }

    static Wrong answer(String kind, String why) {
      return new Wrong(kind, Status.DATA_LOSS.withDescription("wrong answer: " + why));
    }
  }

  private int run(String[] args) {
    int rounds = Integer.parseInt(args[1]);
    int size = args.length > 2 ? Integer.parseInt(args[2]) : 64;
    long deadlineMs = args.length > 3 ? Long.parseLong(args[3]) * 1000 : 30_000;
    long start = System.nanoTime();
    int calls = 0;
    for (int r = 0; r < rounds; r++) {
      try {
        calls += allKinds(r, size, deadlineMs);
        System.out.println("OK round " + r);
      } catch (Wrong w) {
        System.out.println("FAIL round " + r + " " + w.getMessage());
        return 1;
      }
    }
    System.out.println("DONE " + calls + " " + (System.nanoTime() - start) / 1_000_000);
    return 0;
  }

  private int interactive() throws Exception {
    ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().daemon().unstarted(r));
    int round = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        String[] w = line.strip().split("\\s+");
        long t0 = System.nanoTime();
        switch (w[0]) {
          case "quit" -> {
            return 0;
          }
          case "all" -> {
            try {
              allKinds(round++, 64, Long.parseLong(w[1]));
              System.out.println("OK all " + ms(t0));
            } catch (Wrong e) {
              System.out.println("FAIL all " + e.kind + " " + e.status.getCode() + " " + ms(t0) + ": " + e.status.getDescription());
            }
          }
          case "say" -> {
            try {
              unary(round++, 64, Long.parseLong(w[1]));
              System.out.println("OK say " + ms(t0));
            } catch (Wrong e) {
              System.out.println("FAIL say " + e.status.getCode() + " " + ms(t0) + ": " + e.status.getDescription());
            }
          }
          case "stream" -> stream(Integer.parseInt(w[1]), Long.parseLong(w[2]), Long.parseLong(w[3]), timer);
          case "" -> {}
          default -> System.out.println("ERROR unknown command '" + line.strip() + "'");
        }
      }
    }
    return 0;
  }

  private static long ms(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }

  /** A payload that names its round and kind, padded to {@code size} bytes with a round-dependent pattern. */
  private static ByteString payload(int round, String kind, int index, int size) {
    byte[] head = ("r" + round + " " + kind + " " + index + " ").getBytes(StandardCharsets.US_ASCII);
    byte[] b = new byte[Math.max(size, head.length)];
    System.arraycopy(head, 0, b, 0, head.length);
    for (int i = head.length; i < b.length; i++) {
      b[i] = (byte) (i * 31 + round * 7 + index);
    }
    return ByteString.copyFrom(b);
  }

  /** The four call kinds once; returns the number of calls made. */
  private int allKinds(int round, int size, long deadlineMs) throws Wrong {
    unary(round, size, deadlineMs);
    serverStream(round, size, deadlineMs);
    clientStream(round, size, deadlineMs);
    bidi(round, size, deadlineMs);
    return 4;
  }

  private void unary(int round, int size, long deadlineMs) throws Wrong {
    ByteString p = payload(round, "say", 0, size);
    EchoResponse r;
    try {
      r = blocking.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).say(EchoRequest.newBuilder().setPayload(p).build());
    } catch (RuntimeException e) {
      throw new Wrong("say", Status.fromThrowable(e));
    }
    if (!r.getPayload().equals(p)) {
      throw Wrong.answer("say", "payload of " + r.getPayload().size() + " bytes differs from the " + p.size() + " sent");
    }
  }

  private void serverStream(int round, int size, long deadlineMs) throws Wrong {
    ByteString p = payload(round, "expand", 0, size);
    int got = 0;
    try {
      Iterator<EchoResponse> it =
          blocking
              .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
              .expand(EchoRequest.newBuilder().setPayload(p).setResponseCount(STREAM_MESSAGES).build());
      while (it.hasNext()) {
        EchoResponse r = it.next();
        if (r.getIndex() != got || !r.getPayload().equals(p)) {
          throw Wrong.answer("expand", "message " + got + " has index " + r.getIndex() + " or a different payload");
        }
        got++;
      }
    } catch (RuntimeException e) {
      throw new Wrong("expand", Status.fromThrowable(e));
    }
    if (got != STREAM_MESSAGES) {
      throw Wrong.answer("expand", got + " messages instead of " + STREAM_MESSAGES);
    }
  }

  private void clientStream(int round, int size, long deadlineMs) throws Wrong {
    CompletableFuture<EchoResponse> done = new CompletableFuture<>();
    StreamObserver<EchoRequest> requests =
        async.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).collect(completing(done));
    long bytes = 0;
    for (int i = 0; i < STREAM_MESSAGES; i++) {
      ByteString p = payload(round, "collect", i, size);
      bytes += p.size();
      requests.onNext(EchoRequest.newBuilder().setPayload(p).build());
    }
    requests.onCompleted();
    EchoResponse r = await("collect", done, deadlineMs);
    if (r.getReceivedCount() != STREAM_MESSAGES || r.getReceivedBytes() != bytes) {
      throw Wrong.answer(
          "collect", "server received " + r.getReceivedCount() + " messages / " + r.getReceivedBytes() + " bytes; sent "
              + STREAM_MESSAGES + " / " + bytes);
    }
  }

  private void bidi(int round, int size, long deadlineMs) throws Wrong {
    List<EchoResponse> got = java.util.Collections.synchronizedList(new ArrayList<>());
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<EchoRequest> requests =
        async
            .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
            .chat(
                new StreamObserver<>() {
                  @Override
                  public void onNext(EchoResponse r) {
                    got.add(r);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.complete(null);
                  }
                });
    List<ByteString> sent = new ArrayList<>();
    for (int i = 0; i < STREAM_MESSAGES; i++) {
      ByteString p = payload(round, "chat", i, size);
      sent.add(p);
      requests.onNext(EchoRequest.newBuilder().setPayload(p).build());
    }
    requests.onCompleted();
    await("chat", done, deadlineMs);
    if (got.size() != sent.size()) {
      throw Wrong.answer("chat", got.size() + " echoes for " + sent.size() + " messages");
    }
    for (int i = 0; i < sent.size(); i++) {
      if (got.get(i).getIndex() != i || !got.get(i).getPayload().equals(sent.get(i))) {
        throw Wrong.answer("chat", "echo " + i + " is out of order or differs from what was sent");
      }
    }
  }

  private static <T> StreamObserver<T> completing(CompletableFuture<T> done) {
    return new StreamObserver<>() {
      T last;

      @Override
      public void onNext(T value) {
        last = value;
      }

      @Override
      public void onError(Throwable t) {
        done.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        done.complete(last);
      }
    };
  }

  private static <T> T await(String kind, CompletableFuture<T> done, long deadlineMs) throws Wrong {
    try {
      return done.get(deadlineMs + MARGIN_MS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new Wrong(kind, Status.UNKNOWN.withDescription("HANG: no outcome " + MARGIN_MS + " ms after the deadline"));
    } catch (java.util.concurrent.ExecutionException e) {
      throw new Wrong(kind, Status.fromThrowable(e.getCause()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Wrong(kind, Status.CANCELLED.withDescription("interrupted"));
    }
  }

  /**
   * Starts a Chat that sends {@code count} messages {@code gapMs} apart and then half-closes,
   * reporting its progress and end asynchronously (the test changes the network meanwhile).
   */
  private void stream(int count, long gapMs, long deadlineMs, ScheduledExecutorService timer) {
    long t0 = System.nanoTime();
    AtomicInteger echoes = new AtomicInteger();
    AtomicBoolean ended = new AtomicBoolean();
    CompletableFuture<ScheduledFuture<?>> sender = new CompletableFuture<>();
    Runnable end =
        () -> sender.thenAccept(f -> f.cancel(false));
    StreamObserver<EchoRequest> requests =
        async
            .withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
            .chat(
                new StreamObserver<>() {
                  @Override
                  public void onNext(EchoResponse r) {
                    if (echoes.incrementAndGet() == 1) {
                      System.out.println("STREAM flowing");
                    }
                  }

                  @Override
                  public void onError(Throwable t) {
                    if (ended.compareAndSet(false, true)) {
                      Status s = Status.fromThrowable(t);
                      System.out.println("STREAM end " + s.getCode() + " echoes=" + echoes.get() + " ms=" + ms(t0) + ": " + s.getDescription());
                      end.run();
                    }
                  }

                  @Override
                  public void onCompleted() {
                    if (ended.compareAndSet(false, true)) {
                      System.out.println("STREAM end OK echoes=" + echoes.get() + " ms=" + ms(t0));
                      end.run();
                    }
                  }
                });
    AtomicInteger sent = new AtomicInteger();
    // Only the timer thread touches the request observer after this point.
    sender.complete(
        timer.scheduleAtFixedRate(
            () -> {
              if (ended.get()) {
                return;
              }
              try {
                int i = sent.getAndIncrement();
                if (i < count) {
                  requests.onNext(EchoRequest.newBuilder().setPayload(payload(0, "stream", i, 64)).build());
                } else if (i == count) {
                  requests.onCompleted();
                }
              } catch (RuntimeException e) {
                // The call ended while sending; its observer reports how.
              }
            },
            0,
            gapMs,
            TimeUnit.MILLISECONDS));
    timer.schedule(
        () -> {
          if (ended.compareAndSet(false, true)) {
            System.out.println("STREAM end HANG echoes=" + echoes.get() + " ms=" + ms(t0) + ": no outcome " + MARGIN_MS + " ms after the deadline");
            end.run();
          }
        },
        deadlineMs + MARGIN_MS,
        TimeUnit.MILLISECONDS);
  }
}
