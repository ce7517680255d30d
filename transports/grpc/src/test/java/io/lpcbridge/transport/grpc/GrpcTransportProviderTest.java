package io.lpcbridge.transport.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.RecordingHandler;
import io.lpcbridge.transport.testkit.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(30)
class GrpcTransportProviderTest {
  @TempDir Path dir;

  @Test
  void isFoundByServiceLoaderForBothSchemes() throws Exception {
    for (String target : new String[] {"grpc://localhost:1", "grpc+unix:///tmp/x.sock"}) {
      TransportProvider p = Transports.forTarget(Target.parse(target));
      assertInstanceOf(GrpcTransportProvider.class, p);
      assertEquals("grpc", p.name());
      assertEquals(Set.of("grpc", "grpc+unix"), p.schemes());
      assertEquals(Set.of(Capability.NATIVE_RPC, Capability.CROSS_HOST), p.capabilities());
      assertTrue(p.isAvailable());
      assertTrue(p.description().startsWith("gRPC over HTTP/2"), p.description());
    }
  }

  @Test
  void aUnixTunnelIsNotCrossHostAndItsSocketFileGoesWithTheListener() throws Exception {
    Assumptions.assumeTrue(GrpcTargets.isUnixAvailable(), "grpc+unix needs epoll");
    Path socket = dir.resolve("tunnel.sock");
    Listener l = Transports.listen(Target.parse("grpc+unix://" + socket), TransportOptions.defaults());
    try (TestServer server = new TestServer(l, RecordingHandler::echoing)) {
      Connection c = Transports.connect(server.target(), TransportOptions.defaults());
      try {
        assertEquals(Set.of(Capability.NATIVE_RPC), c.capabilities());
        assertEquals(Set.of(Capability.NATIVE_RPC), server.awaitAccepted(Duration.ofSeconds(10)).connection().capabilities());
      } finally {
        c.close();
      }
      assertTrue(Files.exists(socket));
    }
    assertTrue(awaitDeleted(socket, Duration.ofSeconds(10)), "the listener's close removes its socket file");
  }

  /** gRPC removes the socket file asynchronously: wait for the deletion event, not a sleep. */
  private static boolean awaitDeleted(Path file, Duration timeout) throws Exception {
    try (WatchService watch = file.getFileSystem().newWatchService()) {
      file.getParent().register(watch, StandardWatchEventKinds.ENTRY_DELETE);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (Files.exists(file)) {
        long left = deadline - System.nanoTime();
        WatchKey key = left > 0 ? watch.poll(left, TimeUnit.NANOSECONDS) : null;
        if (key == null) {
          return false;
        }
        key.pollEvents();
        key.reset();
      }
      return true;
    }
  }

  @Test
  void aTcpTunnelIsCrossHost() throws Exception {
    try (TestServer server =
        new TestServer(Transports.listen(Target.parse("grpc://127.0.0.1:0"), TransportOptions.defaults()), RecordingHandler::echoing)) {
      Connection c = Transports.connect(server.target(), TransportOptions.defaults());
      try {
        assertEquals(Set.of(Capability.NATIVE_RPC, Capability.CROSS_HOST), c.capabilities());
        assertTrue(server.awaitAccepted(Duration.ofSeconds(10)).connection().remoteAddress().contains("127.0.0.1"));
      } finally {
        c.close();
      }
    }
  }
}
