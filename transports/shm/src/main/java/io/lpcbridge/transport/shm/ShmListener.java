package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.FileDescriptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.ClosedChannelException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketCredentials;
import org.newsclub.net.unix.FileDescriptorCast;

/**
 * Listens on the rendezvous socket of {@code shm://NAME}; for each client that passes the {@link
 * PeerPolicy}, creates a segment, passes its memfd over the socket and, once the client has mapped
 * it, hands the acceptor a {@link ShmConnection}.
 *
 * <p>One platform thread accepts; each handshake runs on a short-lived thread of its own, bounded
 * by {@code connectTimeout}, so a slow or silent client cannot hold up the others. Accepted
 * connections are handed to the acceptor one at a time.
 */
final class ShmListener implements Listener {
  private static final System.Logger LOG = System.getLogger(ShmListener.class.getName());
  private static final int BACKLOG = 128;

  private final AFUNIXServerSocketChannel server;
  private final String name;
  private final Path socketPath;
  private final Object socketFileKey;
  private final Target localTarget;
  private final TransportOptions options;
  private final ShmOptions shmOptions;
  private final PeerPolicy policy;
  private final Set<Capability> capabilities;
  private final AtomicLong connectionIds = new AtomicLong();
  /** Handshakes in progress, closed if the listener closes first. */
  private final Set<AFUNIXSocketChannel> handshaking = ConcurrentHashMap.newKeySet();

  /** Guards start/close and serializes calls to the acceptor. */
  private final Object lock = new Object();
  /** Guarded by lock. */
  private boolean started;
  /** Written under lock. */
  private volatile boolean closed;
  /** Guarded by lock. */
  private Acceptor acceptor;

  private ShmListener(
      AFUNIXServerSocketChannel server,
      String name,
      Path socketPath,
      TransportOptions options,
      ShmOptions shmOptions,
      PeerPolicy policy,
      Set<Capability> capabilities) {
    this.server = server;
    this.name = name;
    this.socketPath = socketPath;
    this.socketFileKey = Rendezvous.fileKey(socketPath);
    this.localTarget = Target.of(ShmTransportProvider.SCHEME, "//" + name);
    this.options = options;
    this.shmOptions = shmOptions;
    this.policy = policy;
    this.capabilities = capabilities;
  }

  static ShmListener bind(String name, TransportOptions options, ShmOptions shm, Set<Capability> capabilities)
      throws IOException {
    long uid = Rendezvous.ownUid();
    Path dir = shm.dir() != null ? shm.dir() : Rendezvous.defaultDir(uid);
    Path path = Rendezvous.socketPath(dir, name);
    boolean openToOthers = !shm.allowUids().isEmpty();
    AFUNIXServerSocketChannel server;
    try {
      Rendezvous.prepareDir(dir, uid, openToOthers);
      Rendezvous.sweepStale(dir);
      server = Rendezvous.bind(path, openToOthers, BACKLOG);
    } catch (java.net.BindException e) {
      java.net.BindException b = new java.net.BindException("cannot listen on shm://" + name + ": " + e.getMessage());
      b.initCause(e);
      throw b;
    } catch (IOException e) {
      throw new IOException("cannot listen on shm://" + name + ": " + e.getMessage(), e);
    }
    return new ShmListener(server, name, path, options, shm, new PeerPolicy(uid, shm.allowUids()), capabilities);
  }

  @Override
  public Target localTarget() {
    return localTarget;
  }

  /** The rendezvous socket, for messages and tests. */
  Path socketPath() {
    return socketPath;
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("listener on " + localTarget + " is closed");
      }
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + localTarget);
      }
      started = true;
      this.acceptor = acceptor;
    }
    Thread.ofPlatform().daemon().name("shm accept " + name).start(this::acceptLoop);
  }

  private void acceptLoop() {
    while (!closed) {
      AFUNIXSocketChannel channel;
      try {
        channel = server.accept();
      } catch (ClosedChannelException e) {
        if (!closed) {
          failed(new IOException("listener on " + localTarget + " stopped: its socket was closed (was " + socketPath
              + " removed or replaced?)", e));
        }
        return;
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          failed(new IOException("listener on " + localTarget + " stopped accepting: " + e.getMessage(), e));
        }
        return;
      }
      if (channel != null) {
        handshaking.add(channel);
        Thread.ofPlatform().daemon().name("shm handshake " + name).start(() -> handshake(channel));
      }
    }
  }

  private void handshake(AFUNIXSocketChannel channel) {
    long id = connectionIds.incrementAndGet();
    MappedSegment.Created created = null;
    boolean fdOpen = false;
    ShmConnection connection = null;
    try {
      channel.socket().setSoTimeout(Math.toIntExact(Math.clamp(options.connectTimeout().toMillis(), 1, Integer.MAX_VALUE)));
      InputStream in = channel.socket().getInputStream();
      OutputStream out = channel.socket().getOutputStream();
      PeerCredentials peer = credentials(channel);
      if (!policy.admits(peer)) {
        String why = "refused by shm://" + name + ": " + policy.refusal(peer, "client");
        LOG.log(System.Logger.Level.WARNING, why);
        Handshake.write(out, Handshake.refused(why));
        return;
      }
      Handshake.Hello hello = Handshake.readHello(in);
      int capacity;
      try {
        capacity = hello.requestedCapacity() == 0
            ? shmOptions.serverRingSize()
            : SegmentDescriptor.checkCapacity(hello.requestedCapacity(), "the ring size the client asked for, ");
      } catch (IllegalArgumentException e) {
        Handshake.write(out, Handshake.refused("refused by shm://" + name + ": " + e.getMessage()));
        return;
      }
      created = MappedSegment.create("lpcbridge-shm:" + name + ":" + id, capacity);
      fdOpen = true;
      FileDescriptor fd = FileDescriptorCast.unsafeUsing(created.fd()).getFileDescriptor();
      channel.setOutboundFileDescriptors(fd);
      Handshake.write(out, Handshake.accept(shmOptions.idle(), capacity, SegmentDescriptor.segmentLength(capacity)));
      // The descriptor is in flight now, holding the memfd for the client: ours can go.
      MappedSegment.closeQuietly(created.fd());
      fdOpen = false;
      Handshake.readMapped(in);
      channel.socket().setSoTimeout(0);
      String local = "shm://" + name + " server pid " + ProcessHandle.current().pid() + " idle=" + shmOptions.idle();
      String remote = "shm://" + name + " client pid " + peer.pid() + " (uid " + peer.uid() + ", gid " + peer.gid()
          + ") idle=" + hello.idle();
      connection =
          new ShmConnection(
              ShmConnection.Side.SERVER,
              created.segment(),
              channel,
              options,
              shmOptions.idle(),
              shmOptions.spinNanos(),
              local,
              remote,
              capabilities,
              Optional.of(peer));
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        LOG.log(System.Logger.Level.WARNING, "shm://" + name + ": handshake with a client failed: " + e.getMessage(), e);
      }
    } finally {
      handshaking.remove(channel);
      if (fdOpen) {
        MappedSegment.closeQuietly(created.fd());
      }
      if (connection == null) {
        if (created != null) {
          created.segment().close();
        }
        closeQuietly(channel);
      }
    }
    if (connection != null) {
      hand(connection);
    }
  }

  private void hand(ShmConnection connection) {
    synchronized (lock) {
      if (closed) {
        connection.close();
        return;
      }
      try {
        acceptor.onConnection(connection);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "acceptor threw on a connection on " + localTarget + "; closing it", e);
        connection.close();
      }
    }
  }

  static PeerCredentials credentials(AFUNIXSocketChannel channel) throws IOException {
    AFUNIXSocketCredentials c = channel.getPeerCredentials();
    if (c == null || c.isEmpty()) {
      throw new IOException("the kernel reported no credentials for the peer of the rendezvous socket");
    }
    return new PeerCredentials(c.getPid(), c.getUid(), c.getGid());
  }

  private void failed(IOException cause) {
    release();
    Acceptor a;
    synchronized (lock) {
      a = acceptor;
    }
    try {
      a.onListenerFailed(cause);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "onListenerFailed threw", e);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    release();
    for (AFUNIXSocketChannel c : handshaking) {
      closeQuietly(c);
    }
  }

  private void release() {
    closeQuietly(server);
    try {
      Rendezvous.removeIfSame(socketPath, socketFileKey);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "could not remove rendezvous socket " + socketPath, e);
    }
  }

  private static void closeQuietly(java.io.Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // Closing anyway.
    }
  }

  @Override
  public String toString() {
    return "shm listener on " + localTarget + " (" + socketPath + ")";
  }
}
