package io.lpcbridge.transport.channel;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * One end of an in-memory datagram channel: each direction a bounded queue of datagrams, as a
 * message queue or a Unix datagram socket behaves (order kept, nothing dropped, full refuses).
 * All waiting is on one shared monitor.
 */
final class MemoryDatagramIo implements DatagramIo {
  /** The state both ends share. */
  static final class Link {
    final int capacity;
    final ArrayDeque<byte[]> aToB = new ArrayDeque<>();
    final ArrayDeque<byte[]> bToA = new ArrayDeque<>();
    boolean aGone;
    boolean bGone;

    Link(int capacity) {
      this.capacity = capacity;
    }
  }

  private final Link link;
  private final boolean isA;
  private final int maxDatagram;
  private boolean woken;
  /** When true, a dead peer is only found by sending (as with Unix datagram sockets). */
  private final boolean probeOnly;

  private MemoryDatagramIo(Link link, boolean isA, int maxDatagram, boolean probeOnly) {
    this.link = link;
    this.isA = isA;
    this.maxDatagram = maxDatagram;
    this.probeOnly = probeOnly;
  }

  static MemoryDatagramIo[] pair(int capacity, int maxDatagram, boolean probeOnly) {
    Link link = new Link(capacity);
    return new MemoryDatagramIo[] {
      new MemoryDatagramIo(link, true, maxDatagram, probeOnly), new MemoryDatagramIo(link, false, maxDatagram, probeOnly)
    };
  }

  private ArrayDeque<byte[]> in() {
    return isA ? link.bToA : link.aToB;
  }

  private ArrayDeque<byte[]> out() {
    return isA ? link.aToB : link.bToA;
  }

  private boolean peerGone() {
    return isA ? link.bGone : link.aGone;
  }

  /** Puts raw bytes into this end's inbound queue, as a hostile peer would. */
  void inject(byte[] datagram) {
    synchronized (link) {
      in().add(datagram);
      link.notifyAll();
    }
  }

  @Override
  public int maxDatagramSize() {
    return maxDatagram;
  }

  @Override
  public int receive(ByteBuffer dst) {
    synchronized (link) {
      byte[] d = in().poll();
      if (d == null) {
        return -1;
      }
      link.notifyAll();
      int n = Math.min(d.length, dst.remaining());
      dst.put(d, 0, n);
      return d.length;
    }
  }

  @Override
  public boolean send(ByteBuffer datagram) throws IOException {
    synchronized (link) {
      if (peerGone()) {
        throw new IOException("peer gone (test)");
      }
      if (datagram.remaining() > maxDatagram) {
        throw new IOException("datagram too large (test)");
      }
      if (out().size() >= link.capacity) {
        return false;
      }
      byte[] d = new byte[datagram.remaining()];
      datagram.duplicate().get(d);
      out().add(d);
      link.notifyAll();
      return true;
    }
  }

  @Override
  public int await(boolean read, boolean write, long timeoutMillis) throws IOException {
    long deadline = timeoutMillis == 0 ? Long.MAX_VALUE : System.currentTimeMillis() + timeoutMillis;
    synchronized (link) {
      while (true) {
        int ready = 0;
        if (read && !in().isEmpty()) {
          ready |= READABLE;
        }
        if (write && (out().size() < link.capacity || peerGone())) {
          ready |= WRITABLE;
        }
        if (!probeOnly && peerGone()) {
          ready |= PEER_GONE;
        }
        if (ready != 0 || woken) {
          woken = false;
          return ready;
        }
        long left = deadline - System.currentTimeMillis();
        if (left <= 0) {
          return 0;
        }
        try {
          link.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
    }
  }

  @Override
  public void wakeup() {
    synchronized (link) {
      woken = true;
      link.notifyAll();
    }
  }

  /** This end's process "dies": the peer's channel reports it. */
  void die() {
    synchronized (link) {
      if (isA) {
        link.aGone = true;
      } else {
        link.bGone = true;
      }
      link.notifyAll();
    }
  }

  @Override
  public void close() {
    die();
  }

  @Override
  public String peerGoneReason() {
    return "the test peer died";
  }
}
