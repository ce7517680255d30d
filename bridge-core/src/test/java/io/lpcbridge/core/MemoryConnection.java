package io.lpcbridge.core;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An in-memory connection pair for unit tests of the protocol logic: each send is copied to the
 * peer's queue and delivered by the peer's own thread, as a socket reader would. Real transports
 * are exercised by the client and server modules' tests.
 */
final class MemoryConnection implements Connection {
  private static final ByteBuffer EOF = ByteBuffer.allocate(0);

  private final String name;
  private final LinkedBlockingQueue<ByteBuffer> inbox = new LinkedBlockingQueue<>();
  private MemoryConnection peer;
  private final AtomicBoolean open = new AtomicBoolean(true);
  private final AtomicBoolean started = new AtomicBoolean();
  /** While set, this side's reader holds what arrived until it is counted down ({@link #holdDelivery}). */
  private volatile java.util.concurrent.CountDownLatch gate;
  /** Every message this side sent, for assertions on batching. */
  final List<ByteBuffer> sent = Collections.synchronizedList(new ArrayList<>());

  private MemoryConnection(String name) {
    this.name = name;
  }

  static MemoryConnection[] pair() {
    MemoryConnection a = new MemoryConnection("client");
    MemoryConnection b = new MemoryConnection("server");
    a.peer = b;
    b.peer = a;
    return new MemoryConnection[] {a, b};
  }

  @Override
  public void start(MessageHandler handler) {
    if (!started.compareAndSet(false, true)) {
      throw new IllegalStateException("started twice");
    }
    Thread t =
        new Thread(
            () -> {
              try {
                while (true) {
                  ByteBuffer m = inbox.take();
                  if (m == EOF) {
                    open.set(false);
                    handler.onClosed(null);
                    return;
                  }
                  java.util.concurrent.CountDownLatch g = gate;
                  if (g != null) {
                    g.await();
                  }
                  handler.onMessage(m);
                }
              } catch (InterruptedException e) {
                handler.onClosed(e);
              }
            },
            "memory-reader-" + name);
    t.setDaemon(true);
    t.start();
  }

  @Override
  public boolean send(ByteBuffer message) {
    if (!open.get()) {
      return false;
    }
    ByteBuffer copy = ByteBuffer.allocate(message.remaining());
    copy.put(message.duplicate()).flip();
    sent.add(copy.asReadOnlyBuffer());
    peer.inbox.add(copy);
    return true;
  }

  /**
   * Holds what arrives on this side, undelivered and in order, until {@link #releaseDelivery}: a
   * test can then act before this side has read what its peer already sent (its HELLO).
   */
  void holdDelivery() {
    gate = new java.util.concurrent.CountDownLatch(1);
  }

  /** Delivers what {@link #holdDelivery} held, and what comes after. */
  void releaseDelivery() {
    java.util.concurrent.CountDownLatch g = gate;
    gate = null;
    if (g != null) {
      g.countDown();
    }
  }

  /** Injects raw bytes as if the peer had sent them. */
  void injectFromPeer(ByteBuffer message) {
    inbox.add(message);
  }

  @Override
  public boolean isWritable() {
    return true;
  }

  @Override
  public void close() {
    if (open.compareAndSet(true, false)) {
      peer.inbox.add(EOF);
      inbox.add(EOF);
    }
  }

  @Override
  public boolean isOpen() {
    return open.get();
  }

  @Override
  public int maxMessageSize() {
    return 16 * 1024 * 1024;
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of();
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
