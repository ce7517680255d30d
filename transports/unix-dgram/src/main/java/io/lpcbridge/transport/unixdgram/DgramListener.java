package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.DatagramConnections;
import io.lpcbridge.transport.channel.ExitHooks;
import java.io.IOException;
import java.net.BindException;
import java.net.ProtocolException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Set;
import org.newsclub.net.unix.AFUNIXDatagramChannel;
import org.newsclub.net.unix.AddressAlreadyInUseSocketException;

/**
 * A server on {@code unix+dgram:///path} (or {@code @name}): one well-known datagram socket that
 * serves every client's handshake, on one platform daemon thread.
 *
 * <p>For each HELLO the server makes a socket for that connection (an abstract name), connects it
 * to the client's address and answers WELCOME from it; the client then connects to it and sends
 * READY. From then on the two connection sockets
 * are connected to each other only: the kernel keeps other senders out, orders and never drops
 * their datagrams, and a full receiver pushes back on its sender. So one well-known socket serves
 * any number of clients, as a listening stream socket does, while each connection keeps its own
 * backpressure and its own reader thread.
 */
final class DgramListener implements Listener {
  private static final System.Logger LOG = System.getLogger(DgramListener.class.getName());

  private final AFUNIXDatagramChannel socket;
  private final DgramAddress address;
  private final TransportOptions options;
  private final DgramSettings settings;
  private final Selector selector;
  private final Object fileKey;
  /** Removes the socket file at JVM exit if close() does not come first; null for an abstract name. */
  private final Runnable cancelExitHook;
  private final Object lock = new Object();
  /** Guarded by lock. */
  private boolean started;
  /** Written under lock. */
  private volatile boolean closed;

  private DgramListener(
      AFUNIXDatagramChannel socket, DgramAddress address, TransportOptions options, DgramSettings settings, Selector selector) {
    this.socket = socket;
    this.address = address;
    this.options = options;
    this.settings = settings;
    this.selector = selector;
    this.fileKey = address.isAbstract() ? null : DgramSockets.fileKey(address.path());
    this.cancelExitHook = fileKey == null ? null : ExitHooks.register("unix+dgram listener " + address.target(), this::removeFile);
  }

  static DgramListener bind(DgramAddress address, TransportOptions options, DgramSettings settings) throws IOException {
    String target = address.target().toString();
    if (!address.isAbstract()) {
      DgramSockets.clearForBind(address.path(), target);
    }
    AFUNIXDatagramChannel socket;
    try {
      socket = DgramSockets.bound(address, DgramHandshake.MAX_BYTES);
    } catch (AddressAlreadyInUseSocketException e) {
      BindException inUse = new BindException("address in use: a server is already listening on " + target);
      inUse.initCause(e);
      throw inUse;
    } catch (IOException e) {
      throw new IOException("cannot listen on " + target + ": " + e.getMessage(), e);
    }
    try {
      if (!address.isAbstract()) {
        DgramSockets.setMode(address.path(), settings.mode());
      }
      socket.configureBlocking(false);
      Selector selector = socket.provider().openSelector();
      socket.register(selector, SelectionKey.OP_READ);
      return new DgramListener(socket, address, options, settings, selector);
    } catch (IOException | RuntimeException e) {
      socket.close();
      if (!address.isAbstract()) {
        java.nio.file.Files.deleteIfExists(address.path());
      }
      throw new IOException("cannot listen on " + target + ": " + e.getMessage(), e);
    }
  }

  @Override
  public Target localTarget() {
    return address.target();
  }

  @Override
  public void start(Acceptor acceptor) {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("listener on " + localTarget() + " is closed");
      }
      if (started) {
        throw new IllegalStateException("start() was already called on the listener on " + localTarget());
      }
      started = true;
    }
    Thread t = new Thread(() -> acceptLoop(acceptor), "unix+dgram accept " + address.describe());
    t.setDaemon(true);
    t.start();
  }

  private void acceptLoop(Acceptor acceptor) {
    ByteBuffer buf = ByteBuffer.allocateDirect(DgramHandshake.MAX_BYTES + 1);
    try {
      while (!closed) {
        buf.clear();
        if (socket.receive(buf) == null) {
          selector.select();
          selector.selectedKeys().clear();
          continue;
        }
        buf.flip();
        DgramHandshake.Message hello;
        try {
          if (buf.limit() > DgramHandshake.MAX_BYTES) {
            throw new ProtocolException("a datagram of more than " + DgramHandshake.MAX_BYTES + " bytes is no handshake");
          }
          hello = DgramHandshake.decode(buf);
          if (hello.type() != DgramHandshake.HELLO) {
            throw new ProtocolException("expected HELLO, got handshake type " + hello.type());
          }
        } catch (ProtocolException e) {
          LOG.log(System.Logger.Level.WARNING, "ignored a datagram on {0}: {1}", localTarget(), e.getMessage());
          continue;
        }
        accept(acceptor, hello);
      }
    } catch (IOException | RuntimeException e) {
      if (!closed) {
        closed = true;
        release();
        acceptor.onListenerFailed(new IOException("listener on " + localTarget() + " stopped: " + e.getMessage(), e));
      }
    } finally {
      try {
        selector.close();
      } catch (IOException ignored) {
        // Nothing to do.
      }
    }
  }

  private void accept(Acceptor acceptor, DgramHandshake.Message hello) {
    DgramAddress client;
    try {
      client = DgramAddress.parse(hello.text());
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.WARNING, "ignored a HELLO on {0} with a bad client address: {1}", localTarget(), e.getMessage());
      return;
    }
    int size = Math.min(settings.datagramSize(), hello.datagramSize());
    if (size < DgramSettings.MIN_DATAGRAM) {
      refuse(client, hello, "datagram size " + hello.datagramSize() + " is below the minimum " + DgramSettings.MIN_DATAGRAM);
      return;
    }
    DgramAddress mine = DgramSockets.freshAbstract("s");
    AFUNIXDatagramChannel ch = null;
    JunixDatagramIo io;
    try {
      ch = DgramSockets.bound(mine, size);
      ch.connect(client.socketAddress());
      ByteBuffer welcome = DgramHandshake.encode(DgramHandshake.WELCOME, size, hello.nonce(), mine.describe());
      ch.configureBlocking(false);
      if (ch.write(welcome) == 0) {
        throw new IOException("its socket is full");
      }
      io = new JunixDatagramIo(ch, size, "client " + client.describe());
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "dropped a connection request on {0} from {1}: {2}", localTarget(), client.describe(), e.toString());
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // Already failing.
        }
      }
      return;
    }
    Connection c =
        DatagramConnections.create(
            io,
            options,
            new DatagramConnections.Settings(
                UnixDgramTransportProvider.NAME, localTarget().toString(), "unix+dgram client " + client.describe(),
                Set.of(Capability.MESSAGE_BOUNDARIES, Capability.INLINE_RECEIVE), settings.keepAlive(), true));
    try {
      acceptor.onConnection(c);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "acceptor threw on a connection on " + localTarget() + "; closing it", e);
      c.close();
    }
  }

  private void refuse(DgramAddress client, DgramHandshake.Message hello, String why) {
    try {
      socket.send(DgramHandshake.encode(DgramHandshake.REFUSE, 0, hello.nonce(), why), client.socketAddress());
    } catch (IOException e) {
      // The client will time out instead.
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
  }

  /** Closes the socket and removes its file if it is still ours. Connections are not affected. */
  private void release() {
    selector.wakeup();
    try {
      socket.close();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.DEBUG, "closing the listener on " + localTarget(), e);
    }
    if (cancelExitHook != null) {
      cancelExitHook.run();
    }
    removeFile();
  }

  private void removeFile() {
    if (fileKey != null && fileKey.equals(DgramSockets.fileKey(address.path()))) {
      try {
        java.nio.file.Files.deleteIfExists(address.path());
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "could not remove socket file " + address.path(), e);
      }
    }
  }

  @Override
  public String toString() {
    return "unix+dgram listener on " + localTarget();
  }
}
