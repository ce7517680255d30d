package io.lpcbridge.transport.udp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The conformance suite over udp on JDK datagram channels ({@code io=jdk}): the same protocol with
 * no event loop, inline receives and handlers deferred to the thread that read their message.
 */
class UdpJdkConformanceTest extends UdpConformanceTest {
  @Override
  protected TransportOptions options() {
    return super.options().with(UdpEventLoops.IO_OPTION, UdpEventLoops.JDK);
  }

  /** Reader threads of this engine now alive, by name. */
  private static List<String> readerThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("udp reader "))
        .toList();
  }

  /**
   * A client connection costs a reader thread (its socket's), and the thread ends with it: open and
   * close fifty, and only the listener's reader is left, until the listener closes too.
   */
  @Test
  void everyClientsReaderThreadEndsWithItsConnection() throws Exception {
    Listener listener = Transports.listen(Target.parse("udp://127.0.0.1:0"), options());
    try (TestServer server = new TestServer(listener, RecordingHandler::echoing)) {
      String port = server.target().toString().replaceAll(".*:", "");
      List<Connection> clients = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        RecordingHandler h = new RecordingHandler();
        Connection c = Transports.connect(server.target(), options());
        c.start(h);
        c.send(ByteBuffer.wrap(new byte[] {(byte) i}));
        h.take(Duration.ofSeconds(20));
        clients.add(c);
      }
      long mine = readerThreads().stream().filter(n -> n.contains(" -> ") && n.endsWith(":" + port)).count();
      assertEquals(50, mine, "one reader thread per client connection: " + readerThreads());
      clients.forEach(Connection::close);
      long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (readerThreads().stream().anyMatch(n -> n.contains(" -> ") && n.endsWith(":" + port)) && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertEquals(List.of(), readerThreads().stream().filter(n -> n.contains(" -> ") && n.endsWith(":" + port)).toList(), "client reader threads left");
      server.close();
      String listenerReader = "udp reader udp://127.0.0.1:" + port;
      while (readerThreads().contains(listenerReader) && System.nanoTime() < end) {
        Thread.sleep(20);
      }
      assertEquals(List.of(), readerThreads().stream().filter(listenerReader::equals).toList(), "the listener's reader thread, after close");
    }
  }

  /**
   * An acceptor that takes a lock which the thread closing the listener holds (BridgeServer's
   * shutdown does so) does not deadlock: the acceptor is called with no lock of the socket held.
   * Before, the reader thread called it under the socket's lock, and {@code close()} waited for
   * that lock forever (an interop case's teardown hung on it, 1 fresh-clone run in 6).
   */
  @Test
  void anAcceptorBlockedOnTheClosersLockDoesNotDeadlockClose() throws Exception {
    Object serverLock = new Object();
    CountDownLatch acceptorEntered = new CountDownLatch(1);
    List<Connection> accepted = new java.util.concurrent.CopyOnWriteArrayList<>();
    Listener listener = Transports.listen(Target.parse("udp://127.0.0.1:0"), options());
    listener.start(new Listener.Acceptor() {
      @Override
      public void onConnection(Connection c) {
        acceptorEntered.countDown();
        synchronized (serverLock) {
          accepted.add(c);
          c.start(new RecordingHandler());
        }
      }

      @Override
      public void onListenerFailed(Throwable cause) {}
    });
    Connection client;
    CompletableFuture<Void> closing;
    synchronized (serverLock) {
      client = Transports.connect(listener.localTarget(), options());
      client.start(new RecordingHandler());
      assertTrue(acceptorEntered.await(20, TimeUnit.SECONDS), "the acceptor was called");
      closing = CompletableFuture.runAsync(listener::close);
      closing.get(10, TimeUnit.SECONDS); // hung for good before the fix
    }
    long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (accepted.isEmpty() && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertEquals(1, accepted.size(), "the acceptor finished once the lock was free");
    client.close();
    accepted.forEach(Connection::close);
  }
}
