package io.lpcbridge.bench.jmh;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Set;

/**
 * Two {@link Connection}s joined in memory, for benchmarking the wire protocol alone. A send copies
 * the message (as a socket transport copies it into its buffer) and queues it; {@link #pump()}
 * delivers queued messages on the calling thread until none are left, so a whole call runs on one
 * thread, deterministically, without a transport thread or a syscall.
 */
final class InMemoryConnections {
  private final ArrayDeque<Runnable> pending = new ArrayDeque<>();
  final End client = new End("client");
  final End server = new End("server");

  InMemoryConnections() {
    client.peer = server;
    server.peer = client;
  }

  /** Delivers every queued message, and what those deliveries send, until the queue is empty. */
  void pump() {
    for (Runnable r; (r = pending.poll()) != null; ) {
      r.run();
    }
  }

  final class End implements Connection {
    private final String name;
    private End peer;
    private MessageHandler handler;
    private boolean open = true;

    End(String name) {
      this.name = name;
    }

    @Override
    public void start(MessageHandler handler) {
      this.handler = handler;
    }

    @Override
    public boolean send(ByteBuffer message) {
      if (!open) {
        return false;
      }
      ByteBuffer copy = ByteBuffer.allocate(message.remaining()).put(message.duplicate()).flip();
      End to = peer;
      pending.add(() -> to.handler.onMessage(copy));
      return true;
    }

    @Override
    public boolean isWritable() {
      return open;
    }

    @Override
    public void close() {
      if (open) {
        open = false;
        handler.onClosed(null);
      }
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public int maxMessageSize() {
      return 16 << 20;
    }

    @Override
    public Set<Capability> capabilities() {
      return Set.of(Capability.MESSAGE_BOUNDARIES);
    }

    @Override
    public String localAddress() {
      return "memory:" + name;
    }

    @Override
    public String remoteAddress() {
      return "memory:" + peer.name;
    }
  }
}
