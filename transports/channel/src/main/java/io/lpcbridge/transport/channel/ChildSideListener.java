package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.util.Set;

/**
 * The child's side of a transport whose parent launched it ({@code pipe:stdio}, {@code
 * socketpair:inherited}): the one connection, on descriptors the transport already took over.
 * {@link #start} writes the ready preamble ({@link ChildConnections#writePreamble}) and hands that
 * connection to the acceptor; closing before that closes the descriptors, and the parent sees the
 * child stop before serving.
 */
public final class ChildSideListener implements Listener {
  private final String transportName;
  private final Target target;
  private final TransportOptions options;
  private final boolean exitWithParent;
  private final Object lock = new Object();
  /** Guarded by lock; -1 once handed over or closed. */
  private int in;
  /** Guarded by lock; -1 once handed over or closed; may equal {@link #in} (a socket). */
  private int out;
  /** Guarded by lock. */
  private boolean started;

  /**
   * @param in the descriptor read from the parent, now owned by this listener
   * @param out the descriptor written to the parent ({@code in} again for a socket)
   * @param exitWithParent exit the process once the connection closes
   */
  public ChildSideListener(String transportName, Target target, TransportOptions options, boolean exitWithParent, int in, int out) {
    this.transportName = transportName;
    this.target = target;
    this.options = options;
    this.exitWithParent = exitWithParent;
    this.in = in;
    this.out = out;
  }

  @Override
  public Target localTarget() {
    return target;
  }

  @Override
  public void start(Acceptor acceptor) {
    int i;
    int o;
    synchronized (lock) {
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + target);
      }
      if (in < 0) {
        throw new IllegalStateException("listener on " + target + " is closed");
      }
      started = true;
      i = in;
      o = out;
      in = -1;
      out = -1;
    }
    Connection c;
    try {
      ChildConnections.writePreamble(o);
      c =
          FdConnections.create(
              i, o, options, transportName, target.toString(),
              "parent pid " + ProcessHandle.current().parent().map(p -> p.pid()).orElse(-1L), Set.of(Capability.SPAWNS_PEER, Capability.INLINE_RECEIVE));
    } catch (IOException e) {
      closeBoth(i, o);
      acceptor.onListenerFailed(new IOException("cannot serve " + target + ": " + e.getMessage(), e));
      return;
    }
    if (exitWithParent) {
      c = ChildConnections.exitingWithParent(c);
    }
    acceptor.onConnection(c);
  }

  @Override
  public void close() {
    int i;
    int o;
    synchronized (lock) {
      i = in;
      o = out;
      in = -1;
      out = -1;
    }
    closeBoth(i, o);
  }

  private static void closeBoth(int i, int o) {
    Fds.closeQuietly(i);
    if (o != i) {
      Fds.closeQuietly(o);
    }
  }

  @Override
  public String toString() {
    return transportName + " listener on " + target;
  }
}
