package io.lpcbridge.transport.testkit;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageTooLargeException;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.ReadRole;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.TestServer.Accepted;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The conformance suite every transport runs: the {@link Connection} and {@link Listener} contract
 * checked through the SPI alone ({@link Transports#forTarget}, {@link TransportProvider#listen},
 * {@link TransportProvider#connect}), with real threads and, for peer death, a real child process
 * killed with SIGKILL.
 *
 * <h2>Binding a transport</h2>
 *
 * A transport module depends on {@code transport-testkit} in test scope and subclasses this suite
 * in a few lines:
 *
 * <pre>{@code
 * class UnixConformanceTest extends TransportConformanceSuite {
 *   @TempDir Path dir;
 *   private final AtomicInteger sockets = new AtomicInteger();
 *
 *   @Override
 *   protected Target listenTarget() {
 *     return Target.parse("unix://" + dir.resolve("s" + sockets.incrementAndGet() + ".sock"));
 *   }
 * }
 * }</pre>
 *
 * {@link #listenTarget()} is the only thing to provide; it may be called several times per test
 * and must give a target that can be bound each time (tcp port 0, a fresh path). Optional
 * overrides: {@link #options()} (start from {@code super.options()}), {@link #livenessBound()},
 * {@link #backpressureBound()} and {@link #peerJvmArgs()}. The provider is found by the target's
 * scheme, so the transport's {@code META-INF/services} registration is tested too.
 *
 * <p>Tests that need a {@link Capability} the transport lacks are skipped by assumption, with the
 * reason printed; tests that need another process to dial the listener are skipped for {@link
 * Capability#SPAWNS_PEER} transports. The peer-crash tests launch {@link ConformancePeer} with
 * this JVM's class path. A failed connect must throw an {@code IOException} whose message contains
 * the target exactly as {@code Target.toString()} writes it.
 * No test synchronizes by sleeping or measures speed; every wait is a latch or queue with a
 * generous timeout.
 */
@Timeout(value = 60, unit = SECONDS)
public abstract class TransportConformanceSuite {
  /** How long any single expected event may take before the test fails. */
  protected static final Duration TIMEOUT = Duration.ofSeconds(20);
  /** How long a child JVM may take to start and connect or bind. */
  protected static final Duration PEER_START = Duration.ofSeconds(30);

  private static final int MIB = 1024 * 1024;

  private final Deque<AutoCloseable> resources = new ConcurrentLinkedDeque<>();

  /** Which end of a connection acts, in tests that run both ways. */
  protected enum Side {
    CLIENT,
    SERVER
  }

  /** A fresh target to bind a listener on (tcp port 0, a new socket path...). */
  protected abstract Target listenTarget();

  /**
   * Options for every listener and connection in the suite, including the child process. The
   * default keeps tests fast: maxMessageSize 4 MiB, writeHighWaterMark 256 KiB, connectTimeout and
   * linger 5 s.
   */
  protected TransportOptions options() {
    return TransportOptions.defaults()
        .with(TransportOptions.MAX_MESSAGE_SIZE, 4 * MIB)
        .with(TransportOptions.WRITE_HIGH_WATER_MARK, 256 * 1024)
        .with(TransportOptions.CONNECT_TIMEOUT, "5s")
        .with(TransportOptions.LINGER, "5s");
  }

  /** How soon after the peer process dies its connection must report {@code onClosed}. */
  protected Duration livenessBound() {
    return Duration.ofSeconds(10);
  }

  /**
   * How many bytes a sender may get accepted while the receiver is stalled before {@code
   * isWritable()} must turn false. Covers the write queue's high-water mark plus whatever the
   * channel underneath buffers (socket buffers, HTTP/2 windows, ring size).
   */
  protected long backpressureBound() {
    return 64L * MIB;
  }

  /** Extra JVM arguments for the child process of the peer-crash tests. */
  protected List<String> peerJvmArgs() {
    return List.of();
  }

  // ---------------------------------------------------------------- open, echo, close

  @Test
  void echoesBothWaysAndClientCloseIsSeenByServer() throws Exception {
    TestServer server = serve(RecordingHandler::echoing);
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    assertTrue(c.isOpen(), "client connection open after connect");
    assertTrue(s.connection().isOpen(), "accepted connection open");

    byte[] ping = bytes("ping");
    assertTrue(c.send(ByteBuffer.wrap(ping)), "send on an open connection");
    assertArrayEquals(ping, s.handler().take(TIMEOUT), "server received what the client sent");
    assertArrayEquals(ping, client.take(TIMEOUT), "client received the echo");
    byte[] hello = bytes("hello from the server");
    assertTrue(s.connection().send(ByteBuffer.wrap(hello)));
    assertArrayEquals(hello, client.take(TIMEOUT), "client received the server's own message");

    c.close();
    assertFalse(c.isOpen(), "isOpen() right after close()");
    s.handler().awaitClosedInOrder(TIMEOUT);
    client.awaitClosedInOrder(TIMEOUT);
    assertFalse(s.connection().isOpen(), "server end open after onClosed");
    assertFalse(c.send(ByteBuffer.wrap(ping)), "send() after close() must return false");
    client.assertContractKept();
    s.handler().assertContractKept();
  }

  @Test
  void serverCloseIsSeenByClient() throws Exception {
    TestServer server = serve(RecordingHandler::echoing);
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    byte[] ping = bytes("ping");
    c.send(ByteBuffer.wrap(ping));
    assertArrayEquals(ping, client.take(TIMEOUT));

    s.connection().close();
    assertFalse(s.connection().isOpen());
    client.awaitClosedInOrder(TIMEOUT);
    s.handler().awaitClosedInOrder(TIMEOUT);
    assertFalse(c.isOpen(), "client end open after onClosed");
    assertFalse(s.connection().send(ByteBuffer.wrap(ping)), "send() after close() must return false");
    client.assertContractKept();
    s.handler().assertContractKept();
  }

  @Test
  void startTwiceThrowsCloseIsIdempotentAndSendLeavesTheBufferAlone() throws Exception {
    TestServer server = serve(conn -> new RecordingHandler());
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    assertThrows(IllegalStateException.class, () -> c.start(new RecordingHandler()), "second start()");
    assertThrows(
        IllegalStateException.class, () -> s.connection().start(new RecordingHandler()), "second start()");

    byte[] all = bytes("0123456789");
    ByteBuffer heap = ByteBuffer.wrap(all, 2, 5);
    assertTrue(c.send(heap));
    assertEquals(2, heap.position(), "send() moved the buffer's position");
    assertEquals(7, heap.limit(), "send() moved the buffer's limit");
    ByteBuffer direct = ByteBuffer.allocateDirect(16).put(all).flip().position(3);
    assertTrue(c.send(direct));
    assertEquals(3, direct.position());
    assertArrayEquals(bytes("23456"), s.handler().take(TIMEOUT), "heap buffer slice");
    assertArrayEquals(bytes("3456789"), s.handler().take(TIMEOUT), "direct buffer slice");

    CountDownLatch go = new CountDownLatch(1);
    List<Thread> closers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      closers.add(Thread.ofPlatform().start(() -> awaitQuietly(go).run()));
    }
    go.countDown();
    c.close();
    for (Thread t : closers) {
      t.join();
    }
    c.close();
    assertFalse(c.send(ByteBuffer.wrap(all)));
    client.awaitClosedInOrder(TIMEOUT);
    s.handler().awaitClosedInOrder(TIMEOUT);
    s.connection().close();
    s.connection().close();
    client.assertContractKept();
    s.handler().assertContractKept();
  }

  private static Runnable awaitQuietly(CountDownLatch latch) {
    return () -> {
      try {
        latch.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
  }

  @Test
  void handlerThrowingFromOnMessageFailsTheConnectionWithThatException() throws Exception {
    RuntimeException boom = new IllegalStateException("thrown by the test's onMessage");
    TestServer server =
        serve(
            conn ->
                new RecordingHandler() {
                  @Override
                  public void onMessage(ByteBuffer message) {
                    super.onMessage(message);
                    throw boom;
                  }
                });
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    assertTrue(c.send(ByteBuffer.wrap(bytes("first"))));
    c.send(ByteBuffer.wrap(bytes("second, may be dropped")));

    Throwable cause = s.handler().awaitClosed(TIMEOUT);
    assertTrue(cause == boom, "onClosed should get the handler's own exception, got " + cause);
    assertEquals(1, s.handler().receivedAtClose(), "nothing is delivered after onMessage threw");
    assertFalse(s.connection().isOpen());
    client.awaitClosed(TIMEOUT);
    s.handler().assertContractKept();
    client.assertContractKept();
  }

  // ---------------------------------------------------------------- close flushes

  /**
   * The receiver is stalled while the sender queues more than socket buffers and windows hold, and
   * is released only after {@code close()}: a transport that drops what it has not yet written
   * when closing fails here.
   */
  @ParameterizedTest(name = "{0} closes")
  @EnumSource(Side.class)
  void closeDeliversEveryQueuedMessageInOrderFirst(Side closer) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    resources.push(release::countDown);
    RecordingHandler.Reaction stall =
        message -> {
          if (!release.await(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS)) {
            throw new IllegalStateException("receiver never released");
          }
        };
    TestServer server = serve(conn -> new RecordingHandler(stall));
    RecordingHandler client = new RecordingHandler(stall);
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    Connection sender = closer == Side.CLIENT ? c : s.connection();
    RecordingHandler receiver = closer == Side.CLIENT ? s.handler() : client;

    int n = 4096;
    int payload = 4096 - NumberedMessage.OVERHEAD; // 16 MiB in all
    for (int i = 0; i < n; i++) {
      assertTrue(sender.send(NumberedMessage.encode(0, i, payload)), "send " + i);
    }
    sender.close();
    release.countDown();
    receiver.awaitClosedInOrder(TIMEOUT);
    assertEquals(n, receiver.receivedAtClose(), "messages delivered before onClosed");
    for (int i = 0; i < n; i++) {
      assertEquals(i, NumberedMessage.decode(receiver.take(TIMEOUT)).sequence(), "message order");
    }
    receiver.assertContractKept();
  }

  // ---------------------------------------------------------------- concurrent senders

  @Test
  void concurrentSendersKeepPerSenderOrderAndNeverInterleave() throws Exception {
    int senders = 4;
    int perSender = 1000;
    TestServer server = serve(conn -> new RecordingHandler());
    Connection c = connectAndStart(server.target(), new RecordingHandler());
    Accepted s = server.awaitAccepted(TIMEOUT);

    CountDownLatch go = new CountDownLatch(1);
    List<Callable<Void>> tasks = new ArrayList<>();
    for (int id = 0; id < senders; id++) {
      int sender = id;
      tasks.add(
          () -> {
            SplittableRandom sizes = new SplittableRandom(sender);
            go.await();
            for (int seq = 0; seq < perSender; seq++) {
              assertTrue(c.send(NumberedMessage.encode(sender, seq, sizes.nextInt(1024))));
            }
            return null;
          });
    }
    ExecutorService pool = pool(senders);
    List<Future<Void>> done = tasks.stream().map(pool::submit).toList();
    go.countDown();
    for (Future<Void> f : done) {
      f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    long[] next = new long[senders];
    for (int i = 0; i < senders * perSender; i++) {
      NumberedMessage.Header h = NumberedMessage.decode(s.handler().take(TIMEOUT));
      assertEquals(next[h.sender()], h.sequence(), "order of sender " + h.sender() + " at message " + i);
      next[h.sender()]++;
    }
    for (int id = 0; id < senders; id++) {
      assertEquals(perSender, next[id], "messages from sender " + id);
    }
    s.handler().assertContractKept();
  }

  // ---------------------------------------------------------------- interrupts

  /**
   * A caller whose thread is interrupted (a blocking stub being cancelled, a pool shut down with
   * shutdownNow) sends, a whole stream of messages, and the connection stays open for every other
   * call on it: the JDK closes an interruptible channel when a thread inside one of its calls is
   * interrupted, so a transport must not reach one with the status set. The status is left set.
   */
  @Test
  void anInterruptedCallerSendsAndTheConnectionStaysOpen() throws Exception {
    TestServer server = serve(RecordingHandler::echoing);
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    int n = 200;
    Thread.currentThread().interrupt();
    try {
      for (int i = 0; i < n; i++) {
        assertTrue(c.send(NumberedMessage.encode(0, i, 100 + i)), "send " + i + " by an interrupted thread");
      }
    } finally {
      assertTrue(Thread.interrupted(), "the caller's interrupt status is left set");
    }
    for (int i = 0; i < n; i++) {
      assertEquals(i, NumberedMessage.decode(client.take(TIMEOUT)).sequence(), "echo " + i);
    }
    byte[] after = bytes("after the interrupt");
    assertTrue(c.send(ByteBuffer.wrap(after)));
    assertArrayEquals(after, client.take(TIMEOUT), "the connection still carries messages");
    assertTrue(c.isOpen() && s.connection().isOpen(), "both ends are still open");
    client.assertContractKept();
    s.handler().assertContractKept();
  }

  // ---------------------------------------------------------------- sizes

  /** Edge sizes: empty, tiny, odd, and one either side of common buffer sizes. */
  static IntStream messageSizes() {
    return IntStream.of(
        0, 1, 2, 3, 7, 13, 255, 256, 1023, 1024, 1025, 4095, 4096, 4097, 8191, 8192, 8193, 16383,
        16384, 16385, 65535, 65536, 65537, 131071, 131072, 131073, MIB - 1, MIB + 1, 2 * MIB + 7);
  }

  @ParameterizedTest(name = "{0} bytes")
  @MethodSource("messageSizes")
  void echoesMessagesOfEdgeSizes(int size) throws Exception {
    int max = options().maxMessageSize();
    Assumptions.assumeTrue(size <= max, () -> "size " + size + " is over this suite's maxMessageSize " + max);
    TestServer server = serve(RecordingHandler::echoing);
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    byte[] m = NumberedMessage.pattern(size);
    assertTrue(c.send(ByteBuffer.wrap(m)));
    assertSameBytes(m, s.handler().take(TIMEOUT), "at the server");
    assertSameBytes(m, client.take(TIMEOUT), "echoed back to the client");
  }

  @Test
  void carriesExactlyMaxMessageSizeAndRefusesOneMoreWithoutBreaking() throws Exception {
    int max = options().maxMessageSize();
    TestServer server = serve(RecordingHandler::echoing);
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    assertEquals(max, c.maxMessageSize(), "client maxMessageSize() vs the option");
    assertEquals(max, s.connection().maxMessageSize(), "server maxMessageSize() vs the option");

    byte[] m = NumberedMessage.pattern(max);
    assertTrue(c.send(ByteBuffer.wrap(m)));
    assertSameBytes(m, s.handler().take(TIMEOUT), "a maxMessageSize message at the server");
    assertSameBytes(m, client.take(TIMEOUT), "a maxMessageSize message echoed");

    for (Connection end : List.of(c, s.connection())) {
      MessageTooLargeException e =
          assertThrows(MessageTooLargeException.class, () -> end.send(ByteBuffer.allocate(max + 1)));
      assertEquals(max + 1, e.size());
      assertEquals(max, e.limit());
      assertTrue(end.isOpen(), "a refused send must leave the connection open");
    }
    byte[] after = bytes("still usable");
    assertTrue(c.send(ByteBuffer.wrap(after)));
    assertArrayEquals(after, s.handler().take(TIMEOUT));
    assertArrayEquals(after, client.take(TIMEOUT));
    assertEquals(0, client.pending(), "nothing but the echoes arrived");
    client.assertContractKept();
  }

  private static void assertSameBytes(byte[] expected, byte[] actual, String where) {
    assertEquals(expected.length, actual.length, "length " + where);
    int at = Arrays.mismatch(expected, actual);
    if (at >= 0) {
      fail("message of " + expected.length + " bytes differs " + where + " at byte " + at);
    }
  }

  // ---------------------------------------------------------------- peer death

  @Test
  void killedClientProcessClosesServerEndAndListenerKeepsAccepting() throws Exception {
    assumeOtherProcessesCanDial();
    TestServer server = serve(RecordingHandler::echoing);
    PeerProcess peer = track(PeerProcess.start("connect", server.target(), options(), peerJvmArgs()));
    Accepted s = withPeerDiagnostics(peer, () -> server.awaitAccepted(PEER_START));
    for (int i = 0; i < 10; i++) {
      assertEquals(i, NumberedMessage.decode(withPeerDiagnostics(peer, () -> s.handler().take(PEER_START))).sequence());
    }

    peer.kill();
    Throwable cause = s.handler().awaitClosed(livenessBound());
    System.err.println(getClass().getSimpleName() + ": server end saw the killed client as " + cause);
    s.handler().assertContractKept();

    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    byte[] ping = bytes("after the crash");
    assertTrue(c.send(ByteBuffer.wrap(ping)));
    assertArrayEquals(ping, client.take(TIMEOUT), "the listener serves new connections after a peer died");
  }

  @Test
  void killedServerProcessClosesClientEnd() throws Exception {
    assumeOtherProcessesCanDial();
    PeerProcess peer = track(PeerProcess.start("listen", listenTarget(), options(), peerJvmArgs()));
    Target target = Target.parse(peer.awaitLine(ConformancePeer.LISTENING, PEER_START));
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(target, client);
    for (int i = 0; i < 10; i++) {
      assertEquals(i, NumberedMessage.decode(withPeerDiagnostics(peer, () -> client.take(PEER_START))).sequence());
    }

    peer.kill();
    Throwable cause = client.awaitClosed(livenessBound());
    System.err.println(getClass().getSimpleName() + ": client end saw the killed server as " + cause);
    assertFalse(c.isOpen(), "isOpen() after onClosed");
    assertFalse(c.send(ByteBuffer.wrap(bytes("too late"))), "send() after the peer died and onClosed");
    client.assertContractKept();
  }

  // ---------------------------------------------------------------- many connections

  @Test
  void manyConcurrentConnectionsEachEchoInOrder() throws Exception {
    int connections = 50;
    int perConnection = 20;
    TestServer server = serve(RecordingHandler::echoing);
    ExecutorService pool = pool(4);
    List<Future<ClientEnd>> opened = new ArrayList<>();
    for (int i = 0; i < connections; i++) {
      opened.add(
          pool.submit(
              () -> {
                RecordingHandler h = new RecordingHandler();
                return new ClientEnd(connectAndStart(server.target(), h), h);
              }));
    }
    List<ClientEnd> clients = new ArrayList<>();
    for (Future<ClientEnd> f : opened) {
      clients.add(f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
    }
    Set<Connection> accepted = new HashSet<>();
    for (int i = 0; i < connections; i++) {
      accepted.add(server.awaitAccepted(TIMEOUT).connection());
    }
    assertEquals(connections, accepted.size(), "distinct accepted connections");

    for (int seq = 0; seq < perConnection; seq++) {
      for (int id = 0; id < connections; id++) {
        assertTrue(clients.get(id).connection().send(NumberedMessage.encode(id, seq, 100 + id)));
      }
    }
    for (int id = 0; id < connections; id++) {
      for (int seq = 0; seq < perConnection; seq++) {
        NumberedMessage.Header h = NumberedMessage.decode(clients.get(id).handler().take(TIMEOUT));
        assertEquals(id, h.sender(), "an echo arrived on the wrong connection");
        assertEquals(seq, h.sequence(), "echo order on connection " + id);
      }
      clients.get(id).handler().assertContractKept();
    }
  }

  private record ClientEnd(Connection connection, RecordingHandler handler) {}

  // ---------------------------------------------------------------- backpressure

  @Test
  void stalledReceiverTurnsSenderUnwritableThenOnWritableResumes() throws Exception {
    CountDownLatch stalled = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    resources.push(release::countDown); // never leave a transport thread parked
    TestServer server =
        serve(
            conn ->
                new RecordingHandler(
                    message -> {
                      stalled.countDown();
                      if (!release.await(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS)) {
                        throw new IllegalStateException("receiver never released");
                      }
                    }));
    // What the bridge's default executor does with an onReady that onWritable brings about: it
    // defers it to the reader thread. The reader must run it though it reads nothing more (the
    // server never answers here); shm once left it for the next record, and calls stalled.
    CountDownLatch deferredRan = new CountDownLatch(1);
    RecordingHandler client = new RecordingHandler() {
      @Override
      public void onWritable() {
        if (!ReadRole.defer(deferredRan::countDown, Runnable::run)) {
          deferredRan.countDown(); // not on a reader thread that defers: nothing to wait for
        }
        super.onWritable();
      }
    };
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);

    int size = 16 * 1024;
    long seq = 0;
    assertTrue(c.send(NumberedMessage.encode(0, seq++, size)));
    assertTrue(stalled.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "the receiver got the first message");
    long bytes = size;
    while (c.isWritable()) {
      if (bytes > backpressureBound()) {
        fail("isWritable() still true after " + bytes + " bytes sent to a stalled receiver "
            + "(writeHighWaterMark " + options().writeHighWaterMark() + ", bound " + backpressureBound() + ")");
      }
      assertTrue(c.send(NumberedMessage.encode(0, seq++, size)));
      bytes += size;
    }
    long sent = seq;
    System.err.println(getClass().getSimpleName() + ": unwritable after " + sent + " messages, " + bytes + " bytes");

    release.countDown();
    // An onWritable from a flip earlier in the loop may still be pending, so wait until writable,
    // each wait ended by an onWritable, and require at least one after the false seen above.
    boolean notified = false;
    while (!c.isWritable()) {
      assertTrue(client.awaitWritable(TIMEOUT), "onWritable() after the receiver resumed");
      notified = true;
    }
    if (!notified) {
      assertTrue(client.awaitWritable(TIMEOUT), "onWritable() after isWritable() went from false to true");
    }
    assertTrue(deferredRan.await(TIMEOUT.toSeconds(), SECONDS), "work deferred to the reader thread in onWritable never ran");
    byte[] marker = bytes("marker");
    assertTrue(c.send(ByteBuffer.wrap(marker)));
    for (long i = 0; i < sent; i++) {
      assertEquals(i, NumberedMessage.decode(s.handler().take(TIMEOUT)).sequence(), "order after backpressure");
    }
    assertArrayEquals(marker, s.handler().take(TIMEOUT), "no duplicate or extra message before the marker");
    s.handler().assertContractKept();
  }

  // ---------------------------------------------------------------- failures to connect, listener close

  @Test
  void connectingWhereNobodyListensFailsPromptlyNamingTheTarget() throws Exception {
    assumeOtherProcessesCanDial();
    Listener l = provider().listen(listenTarget(), options());
    Target nobody = l.localTarget();
    l.close();
    Duration connectTimeout = options().connectTimeout();
    long start = System.nanoTime();
    IOException e = assertThrows(IOException.class, () -> track(provider().connect(nobody, options())));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    assertTrue(
        e.getMessage() != null && e.getMessage().contains(nobody.toString()),
        "the message should name the target " + nobody + ": " + e.getMessage());
    assertTrue(
        took.compareTo(connectTimeout.plusSeconds(5)) < 0,
        "connect() took " + took + " with connectTimeout " + connectTimeout);
  }

  @Test
  void closedListenerRefusesNewConnectionsButKeepsAcceptedOnes() throws Exception {
    TestServer server = serve(RecordingHandler::echoing);
    Target target = server.target();
    assertEquals(listenTarget().scheme(), target.scheme(), "localTarget() keeps the scheme");
    assertThrows(IllegalStateException.class, () -> server.listener().start(conn -> {}), "second start()");
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(target, client);
    server.awaitAccepted(TIMEOUT);

    server.listener().close();
    server.listener().close();
    assertThrows(IOException.class, () -> track(provider().connect(target, options())), "connect after close");
    assertThrows(IllegalStateException.class, () -> server.listener().start(conn -> {}), "start() after close()");

    byte[] ping = bytes("accepted before the close");
    assertTrue(c.send(ByteBuffer.wrap(ping)));
    assertArrayEquals(ping, client.take(TIMEOUT), "an accepted connection outlives its listener");
    client.assertContractKept();
  }

  // ---------------------------------------------------------------- receiving on the waiting thread

  /**
   * {@link Connection#receiveInline}: a transport with {@link Capability#INLINE_RECEIVE} delivers
   * on the calling thread until the condition holds, in order with what its reader thread delivers
   * before and after; one without it returns false and its reader thread delivers as always.
   */
  @Test
  void receiveInlineDeliversOnTheCallingThreadInOrderAndTheReaderTakesOverAfter() throws Exception {
    TestServer server = serve(RecordingHandler::echoing);
    List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    RecordingHandler client = new RecordingHandler(m -> threads.add(Thread.currentThread()));
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    boolean supported = capabilities().contains(Capability.INLINE_RECEIVE);

    // The peer sends only once the condition is first checked, which an inline receiver does
    // holding the read role: what comes back cannot reach the reader thread first.
    java.util.concurrent.atomic.AtomicBoolean asked = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.function.BooleanSupplier firstArrived = () -> {
      if (asked.compareAndSet(false, true)) {
        s.connection().send(ByteBuffer.wrap(bytes("first")));
      }
      return client.receivedCount() >= 1;
    };
    boolean inline = c.receiveInline(firstArrived, TIMEOUT.toNanos());
    if (!inline) {
      firstArrived.getAsBoolean();
    }
    assertEquals(supported, inline, "receiveInline ran inline iff the transport has INLINE_RECEIVE");
    assertArrayEquals(bytes("first"), client.take(TIMEOUT));
    if (inline) {
      assertEquals(Thread.currentThread(), threads.get(0), "the answer was delivered on the waiting thread");
    }

    // Nobody receives inline now: the reader thread must take over (after its grace period).
    c.send(ByteBuffer.wrap(bytes("second")));
    assertArrayEquals(bytes("second"), client.take(TIMEOUT));
    assertTrue(threads.get(1) != Thread.currentThread(), "a message nobody waited for came on a transport thread");

    // A burst split between an inline receiver and the reader thread keeps its order.
    int n = 2_000;
    for (int i = 0; i < n; i++) {
      assertTrue(c.send(NumberedMessage.encode(1, i, 16 + i % 200)));
    }
    c.receiveInline(() -> client.receivedCount() >= 2 + n / 2, TIMEOUT.toNanos());
    for (int i = 0; i < n; i++) {
      assertEquals(i, NumberedMessage.decode(client.take(TIMEOUT)).sequence(), "message order across threads");
    }
    c.close();
    client.awaitClosedInOrder(TIMEOUT);
    client.assertContractKept();
  }

  @Test
  void receiveInlineReturnsWhenWokenTimedOutInterruptedOrClosed() throws Exception {
    assumeCapability(Capability.INLINE_RECEIVE, "only an inline receive can be woken");
    TestServer server = serve(conn -> new RecordingHandler());
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted s = server.awaitAccepted(TIMEOUT);
    long patience = Duration.ofMinutes(5).toNanos();
    ExecutorService pool = Executors.newCachedThreadPool();
    resources.push(pool::shutdownNow);

    // Woken: the condition turned true on another thread, which says so.
    java.util.concurrent.atomic.AtomicBoolean flag = new java.util.concurrent.atomic.AtomicBoolean();
    Future<Boolean> woken = pool.submit(() -> c.receiveInline(flag::get, patience));
    Thread.sleep(100);
    flag.set(true);
    c.wakeReceivers();
    assertTrue(woken.get(TIMEOUT.toSeconds(), SECONDS), "woken inline receive returned");

    // Timed out.
    assertTrue(c.receiveInline(() -> false, Duration.ofMillis(50).toNanos()), "a timed-out inline receive still ran inline");

    // Interrupted: returns with the interrupt still set, for the caller to act on.
    CountDownLatch started = new CountDownLatch(1);
    java.util.concurrent.CompletableFuture<Boolean> interruptKept = new java.util.concurrent.CompletableFuture<>();
    Thread receiver = Thread.ofPlatform().daemon().start(() -> {
      started.countDown();
      c.receiveInline(() -> false, patience);
      interruptKept.complete(Thread.currentThread().isInterrupted());
    });
    started.await();
    Thread.sleep(100);
    receiver.interrupt();
    assertTrue(interruptKept.get(TIMEOUT.toSeconds(), SECONDS), "the interrupted inline receive returned, interrupt still set");
    byte[] ping = bytes("after the interrupt");
    s.connection().send(ByteBuffer.wrap(ping));
    assertArrayEquals(ping, client.take(TIMEOUT), "the reader thread took over after the interrupted receive");

    // Closed by the peer while receiving inline: returns, and onClosed comes once, in order.
    Future<Boolean> closing = pool.submit(() -> c.receiveInline(() -> false, patience));
    Thread.sleep(100);
    s.connection().close();
    assertTrue(closing.get(TIMEOUT.toSeconds(), SECONDS));
    client.awaitClosedInOrder(TIMEOUT);
    assertFalse(c.receiveInline(() -> false, patience), "no inline receive on a closed connection");
    client.assertContractKept();
  }

  @Test
  void receiveInlineFromInsideOnMessageIsRefused() throws Exception {
    TestServer server = serve(RecordingHandler::echoing);
    java.util.concurrent.atomic.AtomicReference<Connection> self = new java.util.concurrent.atomic.AtomicReference<>();
    List<Boolean> nested = new java.util.concurrent.CopyOnWriteArrayList<>();
    RecordingHandler client = new RecordingHandler(m -> nested.add(self.get().receiveInline(() -> true, 1_000_000)));
    Connection c = connectAndStart(server.target(), client);
    self.set(c);
    c.send(ByteBuffer.wrap(bytes("x")));
    c.receiveInline(() -> client.receivedCount() >= 1, TIMEOUT.toNanos());
    client.take(TIMEOUT);
    c.send(ByteBuffer.wrap(bytes("y")));
    client.take(TIMEOUT);
    assertEquals(List.of(false, false), nested, "receiveInline called from a handler, inline and on the reader thread");
    client.assertContractKept();
  }

  // ---------------------------------------------------------------- work deferred to the reader thread

  /**
   * {@link ReadRole#defer}: on a transport with {@link Capability#INLINE_RECEIVE}, work deferred
   * from {@code onMessage} runs on the reader thread that delivered the message, after it; a task
   * that blocks gets the reader thread replaced, so later messages are still delivered, and the
   * work queued behind it goes to its fallback executor. Elsewhere nothing is deferred.
   */
  @Test
  void deferredWorkRunsOnTheReaderThreadAndOneThatBlocksGetsTheReaderReplaced() throws Exception {
    ExecutorService fallback = pool(2);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<Thread> blockedThread = new java.util.concurrent.atomic.AtomicReference<>();
    List<String> ran = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Boolean> deferred = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Thread> deliverers = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<Thread> runners = new java.util.concurrent.CopyOnWriteArrayList<>();
    TestServer server =
        serve(conn -> new RecordingHandler(m -> {
          String text = StandardCharsets.UTF_8.decode(m.duplicate()).toString();
          deliverers.add(Thread.currentThread());
          Runnable task = () -> {
            runners.add(Thread.currentThread());
            if (text.equals("block")) {
              blockedThread.set(Thread.currentThread());
              blocked.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            ran.add(text);
            conn.send(ByteBuffer.wrap(bytes("done " + text)));
          };
          boolean queued = ReadRole.defer(task, fallback);
          deferred.add(queued);
          if (!queued) {
            fallback.execute(task);
          }
        }));
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted accepted = server.awaitAccepted(TIMEOUT);
    boolean supported = capabilities().contains(Capability.INLINE_RECEIVE);

    c.send(ByteBuffer.wrap(bytes("first")));
    assertArrayEquals(bytes("done first"), client.take(TIMEOUT));
    assertEquals(List.of(supported), deferred, "work is deferred iff the transport has INLINE_RECEIVE");
    if (supported) {
      assertEquals(deliverers.get(0), runners.get(0), "deferred work ran on the thread that delivered its message");
    }

    // A task that blocks: the messages after it are still delivered and answered.
    c.send(ByteBuffer.wrap(bytes("block")));
    assertTrue(blocked.await(TIMEOUT.toSeconds(), SECONDS), "the blocking task started");
    int n = 50;
    for (int i = 0; i < n; i++) {
      c.send(ByteBuffer.wrap(bytes("m" + i)));
    }
    Set<String> answers = new HashSet<>();
    for (int i = 0; i < n; i++) {
      answers.add(new String(client.take(TIMEOUT), StandardCharsets.UTF_8));
    }
    Set<String> expected = new HashSet<>();
    IntStream.range(0, n).forEach(i -> expected.add("done m" + i));
    assertEquals(expected, answers, "every message after the blocked task was answered while it blocked");
    assertFalse(ran.contains("block"), "the blocked task is still blocked");
    // (A reader thread preempted for over the stall time is replaced too, so the blocked task may
    // have been handed to the pool; either way, what came after was read by another thread.)
    assertTrue(deliverers.get(deliverers.size() - 1) != blockedThread.get(), "the blocked thread delivered nothing more");

    release.countDown();
    assertArrayEquals(bytes("done block"), client.take(TIMEOUT));
    c.send(ByteBuffer.wrap(bytes("last")));
    assertArrayEquals(bytes("done last"), client.take(TIMEOUT));
    assertEquals(n + 3, ran.size(), "every task ran once: " + ran);
    c.close();
    client.awaitClosedInOrder(TIMEOUT);
    client.assertContractKept();
    accepted.handler().awaitClosed(TIMEOUT);
    accepted.handler().assertContractKept();
  }

  /**
   * A deferred task that waits for its connection to close is not a deadlock: the replacement
   * reader thread sees the peer's close and reports it.
   */
  @Test
  void deferredWorkWaitingForTheCloseSeesIt() throws Exception {
    assumeCapability(Capability.INLINE_RECEIVE, "only such a transport defers work to its reader thread");
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch sawClose = new CountDownLatch(1);
    ExecutorService fallback = pool(1);
    java.util.concurrent.atomic.AtomicReference<RecordingHandler> serverEnd = new java.util.concurrent.atomic.AtomicReference<>();
    TestServer server =
        serve(conn -> {
          RecordingHandler h = new RecordingHandler(m -> {
            Runnable task = () -> {
              started.countDown();
              serverEnd.get().awaitClosed(TIMEOUT.multipliedBy(2));
              sawClose.countDown();
            };
            assertTrue(ReadRole.defer(task, fallback), "deferred on the reader thread");
          });
          serverEnd.set(h);
          return h;
        });
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    c.send(ByteBuffer.wrap(bytes("wait for the close")));
    server.awaitAccepted(TIMEOUT);
    assertTrue(started.await(TIMEOUT.toSeconds(), SECONDS), "the task started");
    c.close();
    assertTrue(sawClose.await(TIMEOUT.toSeconds(), SECONDS), "the task waiting on the reader thread saw the close");
    serverEnd.get().assertContractKept();
  }

  /**
   * Reader threads replaced again and again (a stall time of 20 µs, no cool-down, work that runs
   * 100 µs) lose nothing and end nothing: every message is answered once and both ends stay open.
   * A replaced thread that took itself for the reader still would close the connection.
   */
  @Test
  void readerThreadsReplacedAgainAndAgainLoseNothing() throws Exception {
    assumeCapability(Capability.INLINE_RECEIVE, "only such a transport defers work to its reader thread");
    ExecutorService fallback = pool(2);
    ReadRole.stallForTests(TimeUnit.MICROSECONDS.toNanos(20), 0);
    resources.push(() -> ReadRole.stallForTests(0, 0));
    Set<Thread> readers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    TestServer server =
        serve(conn -> new RecordingHandler(m -> {
          readers.add(Thread.currentThread()); // each replacement reads on a new thread
          ByteBuffer copy = ByteBuffer.allocate(m.remaining()).put(m.duplicate()).flip();
          Runnable task = () -> {
            long end = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(100);
            while (System.nanoTime() < end) {
              Thread.onSpinWait();
            }
            conn.send(copy);
          };
          if (!ReadRole.defer(task, fallback)) {
            fallback.execute(task);
          }
        }));
    RecordingHandler client = new RecordingHandler();
    Connection c = connectAndStart(server.target(), client);
    Accepted accepted = server.awaitAccepted(TIMEOUT);
    int n = 500;
    Set<Long> answered = new HashSet<>();
    for (int i = 0; i < n; i++) {
      assertTrue(c.send(NumberedMessage.encode(1, i, 32)), "sent " + i);
      answered.add(NumberedMessage.decode(client.take(TIMEOUT)).sequence());
    }
    for (int i = n; i < 2 * n; i++) {
      assertTrue(c.send(NumberedMessage.encode(1, i, 32)), "sent " + i);
    }
    for (int i = n; i < 2 * n; i++) {
      answered.add(NumberedMessage.decode(client.take(TIMEOUT)).sequence());
    }
    assertEquals(2 * n, answered.size(), "every message answered once");
    // The stress must stress: readers replaced more than once (68 to 123 times on a quiet machine
    // here, 10 during a full build, when the watchdog thread gets the CPU less often).
    assertTrue(readers.size() > 2, "reader threads were replaced again and again: " + readers.size() + " delivered");
    assertTrue(c.isOpen() && accepted.connection().isOpen(), "both ends still open");
    assertFalse(accepted.handler().isClosed() || client.isClosed(), "neither end saw a close");
    c.close();
    client.awaitClosedInOrder(TIMEOUT);
    accepted.handler().awaitClosed(TIMEOUT);
    accepted.handler().assertContractKept();
  }

  // ---------------------------------------------------------------- capability-specific

  @Test
  void peerCredentialsNameThisProcess() throws Exception {
    assumeCapability(Capability.PEER_CREDENTIALS, "peer credentials come from SO_PEERCRED");
    TestServer server = serve(conn -> new RecordingHandler());
    Connection c = connectAndStart(server.target(), new RecordingHandler());
    Accepted s = server.awaitAccepted(TIMEOUT);
    long pid = ProcessHandle.current().pid();
    for (Connection end : List.of(c, s.connection())) {
      PeerCredentials pc =
          end.peerCredentials().orElseThrow(() -> new AssertionError("no peerCredentials() on " + end));
      assertTrue(pc.pid() == pid || pc.pid() == -1, "peer pid " + pc.pid() + ", this process " + pid);
    }
  }

  // ---------------------------------------------------------------- helpers

  /** The provider for {@link #listenTarget()}'s scheme. */
  protected final TransportProvider provider() throws IOException {
    return Transports.forTarget(listenTarget());
  }

  /** What the transport offers with {@link #options()}. */
  protected final java.util.Set<Capability> capabilities() throws IOException {
    return provider().capabilities(options());
  }

  /** Skips the test, printing why, unless the transport has {@code capability}. */
  protected final void assumeCapability(Capability capability, String why) throws IOException {
    TransportProvider p = provider();
    boolean has = capabilities().contains(capability);
    if (!has) {
      System.err.println(getClass().getSimpleName() + ": skipped, transport " + p.name() + " lacks " + capability + " (" + why + ")");
    }
    Assumptions.assumeTrue(has, () -> "transport " + p.name() + " lacks " + capability + " (" + why + ")");
  }

  private void assumeOtherProcessesCanDial() throws IOException {
    TransportProvider p = provider();
    boolean spawns = p.capabilities().contains(Capability.SPAWNS_PEER);
    String why = "transport " + p.name() + " has " + Capability.SPAWNS_PEER
        + ": its peer is the child it launches, so no other process can dial its listener";
    if (spawns) {
      System.err.println(getClass().getSimpleName() + ": skipped, " + why);
    }
    Assumptions.assumeFalse(spawns, why);
  }

  /** Binds and starts a listener on {@link #listenTarget()}, closed after the test. */
  protected final TestServer serve(Function<Connection, RecordingHandler> handlers) throws IOException {
    Listener l = provider().listen(listenTarget(), options());
    try {
      return track(new TestServer(l, handlers));
    } catch (RuntimeException e) {
      l.close();
      throw e;
    }
  }

  /** Connects to {@code target} and starts the connection, closed after the test. */
  protected final Connection connectAndStart(Target target, RecordingHandler handler) throws IOException {
    Connection c = track(Transports.forTarget(target).connect(target, options()));
    c.start(handler);
    return c;
  }

  /** Closes {@code connection} after the test. */
  protected final Connection track(Connection connection) {
    resources.push(connection::close);
    return connection;
  }

  /** Closes {@code resource} after the test. */
  protected final <T extends AutoCloseable> T track(T resource) {
    resources.push(resource);
    return resource;
  }

  private ExecutorService pool(int threads) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    resources.push(pool::shutdownNow);
    return pool;
  }

  private static <T> T withPeerDiagnostics(PeerProcess peer, Callable<T> step) throws Exception {
    try {
      return step.call();
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\npeer stderr:\n" + peer.stderr(), e);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @AfterEach
  final void closeResources() throws Exception {
    Exception first = null;
    for (AutoCloseable r; (r = resources.poll()) != null; ) {
      try {
        r.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
