package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.nativeio.WakePipe;
import io.lpcbridge.transport.channel.DatagramIo;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * {@link DatagramIo} over two non-blocking queue descriptors, one per direction, and a pidfd for the
 * peer process. On Linux a queue descriptor can be polled: {@code POLLIN} when a message waits,
 * {@code POLLOUT} when there is room; the pidfd turns readable when the peer process ends.
 */
final class MqDatagramIo implements DatagramIo {
  private final int in;
  private final int out;
  private final int peerPidfd;
  private final int peerPid;
  private final int messageSize;
  private final WakePipe wake;
  /** Entries: 0 in, 1 out, 2 the peer's pidfd, 3 the wake pipe. Reader thread only. */
  private final Fds.PollSet pollSet = new Fds.PollSet(4);

  /** Takes ownership of the three descriptors. */
  MqDatagramIo(int in, int out, int peerPidfd, int peerPid, int messageSize) throws IOException {
    this.in = in;
    this.out = out;
    this.peerPidfd = peerPidfd;
    this.peerPid = peerPid;
    this.messageSize = messageSize;
    this.wake = new WakePipe();
    pollSet.set(2, peerPidfd, Fds.POLLIN);
    pollSet.set(3, wake.readFd(), Fds.POLLIN);
  }

  @Override
  public int maxDatagramSize() {
    return messageSize;
  }

  @Override
  public int receive(ByteBuffer dst) throws IOException {
    return MessageQueues.receive(in, dst);
  }

  @Override
  public boolean send(ByteBuffer datagram) throws IOException {
    return MessageQueues.send(out, datagram);
  }

  @Override
  public int await(boolean read, boolean write, long timeoutMillis) throws IOException {
    pollSet.set(0, read ? in : -1, Fds.POLLIN);
    pollSet.set(1, write ? out : -1, Fds.POLLOUT);
    int timeout = timeoutMillis <= 0 ? -1 : (int) Math.min(timeoutMillis, Integer.MAX_VALUE);
    if (pollSet.poll(timeout) == 0) {
      return 0;
    }
    int ready = 0;
    if ((pollSet.revents(0) & Fds.POLLIN) != 0) {
      ready |= READABLE;
    }
    if ((pollSet.revents(1) & Fds.POLLOUT) != 0) {
      ready |= WRITABLE;
    }
    if ((pollSet.revents(2) & Fds.POLLIN) != 0) {
      ready |= PEER_GONE;
    }
    if ((pollSet.revents(3) & Fds.POLLIN) != 0) {
      wake.drain();
    }
    return ready;
  }

  @Override
  public void wakeup() {
    wake.wake();
  }

  @Override
  public String peerGoneReason() {
    return "the peer process (pid " + peerPid + ") exited without closing the connection";
  }

  @Override
  public void close() {
    wake.close();
    Fds.closeQuietly(in);
    Fds.closeQuietly(out);
    Fds.closeQuietly(peerPidfd);
  }
}
