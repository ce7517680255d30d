package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.channel.DatagramIo;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.ConnectionRefusedSocketException;

/**
 * {@link DatagramIo} over a connected junixsocket datagram channel, waiting with a selector of
 * junixsocket's own provider. The two sockets of a connection are connected to each other, so the
 * kernel accepts datagrams from the peer only, and a full peer makes a send refuse ({@code EAGAIN},
 * here a write of 0 bytes) until it reads: backpressure, never loss.
 */
final class JunixDatagramIo implements DatagramIo {
  private final AFUNIXDatagramChannel channel;
  private final int maxDatagram;
  private final String peer;
  private final Selector selector;
  private final SelectionKey key;

  /** Takes ownership of a connected {@code channel}. */
  JunixDatagramIo(AFUNIXDatagramChannel channel, int maxDatagram, String peer) throws IOException {
    this.channel = channel;
    this.maxDatagram = maxDatagram;
    this.peer = peer;
    channel.configureBlocking(false);
    this.selector = channel.provider().openSelector();
    try {
      this.key = channel.register(selector, 0);
    } catch (IOException | RuntimeException e) {
      selector.close();
      throw e;
    }
  }

  @Override
  public int maxDatagramSize() {
    return maxDatagram;
  }

  @Override
  public int receive(ByteBuffer dst) throws IOException {
    // junixsocket closes a channel whose caller was interrupted, non-blocking or not, and the
    // connection carries other calls: the call runs with the interrupt status cleared.
    boolean interrupted = Thread.interrupted();
    try {
      // Every datagram of a connection has a header, so 0 bytes means nothing was waiting.
      int n = channel.read(dst);
      return n > 0 ? n : -1;
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public boolean send(ByteBuffer datagram) throws IOException {
    boolean interrupted = Thread.interrupted(); // as in receive
    try {
      return send0(datagram);
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private boolean send0(ByteBuffer datagram) throws IOException {
    int length = datagram.remaining();
    try {
      int n = channel.write(datagram);
      if (n != 0 && n != length) {
        throw new IOException("the socket sent " + n + " of a " + length + "-byte datagram");
      }
      return n == length;
    } catch (ConnectionRefusedSocketException e) {
      IOException gone =
          new IOException("the peer's socket " + peer + " is gone: its process exited, crashed or restarted (ECONNREFUSED)");
      gone.initCause(e);
      throw gone;
    }
  }

  @Override
  public int await(boolean read, boolean write, long timeoutMillis) throws IOException {
    int ops = (read ? SelectionKey.OP_READ : 0) | (write ? SelectionKey.OP_WRITE : 0);
    if (key.interestOps() != ops) {
      key.interestOps(ops);
    }
    int selected = timeoutMillis > 0 ? selector.select(timeoutMillis) : selector.select();
    if (selected == 0) {
      return 0;
    }
    int ready = 0;
    try {
      int r = key.readyOps();
      ready |= (r & SelectionKey.OP_READ) != 0 ? READABLE : 0;
      ready |= (r & SelectionKey.OP_WRITE) != 0 ? WRITABLE : 0;
    } catch (CancelledKeyException e) {
      ready = READABLE | WRITABLE;
    }
    selector.selectedKeys().clear();
    return ready;
  }

  @Override
  public void wakeup() {
    try {
      selector.wakeup();
    } catch (ClosedSelectorException e) {
      // Closed: nobody waits.
    }
  }

  @Override
  public void close() throws IOException {
    try {
      selector.close();
    } finally {
      channel.close();
    }
  }
}
