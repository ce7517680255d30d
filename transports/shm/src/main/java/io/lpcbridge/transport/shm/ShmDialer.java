package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.NativeException;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.PeerCredentials;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.newsclub.net.unix.ConnectionRefusedSocketException;
import org.newsclub.net.unix.FileDescriptorCast;

/** The client side of the rendezvous: connect, check the server, receive and map the segment. */
final class ShmDialer {
  /** Room for a few descriptors' worth of SCM_RIGHTS ancillary data. */
  private static final int ANCILLARY_BUFFER = 256;

  private ShmDialer() {}

  static ShmConnection connect(
      String name, Target target, TransportOptions options, ShmOptions shm, Set<Capability> capabilities)
      throws IOException {
    long uid = Rendezvous.ownUid();
    Path dir = shm.dir() != null ? shm.dir() : Rendezvous.defaultDir(uid);
    Path path = Rendezvous.socketPath(dir, name);
    String what = "cannot connect to " + target + ": ";
    int timeoutMillis = Math.toIntExact(Math.clamp(options.connectTimeout().toMillis(), 1, Integer.MAX_VALUE));

    AFUNIXSocketChannel channel = AFUNIXSocketChannel.open();
    MappedSegment mapping = null;
    try {
      try {
        channel.socket().connect(AFUNIXSocketAddress.of(path), timeoutMillis);
      } catch (IOException e) {
        throw explainConnect(e, what, path, timeoutMillis);
      }
      PeerCredentials server = ShmListener.credentials(channel);
      PeerPolicy policy = new PeerPolicy(uid, shm.allowUids());
      if (!policy.admits(server)) {
        throw new IOException(what + "refusing the server at " + path + ": " + policy.refusal(server, "server"));
      }
      channel.socket().setSoTimeout(timeoutMillis);
      channel.socket().setAncillaryReceiveBufferSize(ANCILLARY_BUFFER);
      InputStream in = channel.socket().getInputStream();
      Handshake.write(
          channel.socket().getOutputStream(), Handshake.hello(shm.ringSize(), shm.idle(), ProcessHandle.current().pid()));
      Handshake.Reply reply;
      FileDescriptor[] fds = null;
      try {
        try {
          reply = Handshake.readReply(in);
        } finally {
          fds = channel.getReceivedFileDescriptors();
        }
        if (reply.status() == Handshake.REFUSED) {
          throw new IOException(what + reply.message());
        }
        if (fds == null || fds.length != 1) {
          throw new ShmProtocolException(
              "the server accepted but passed " + (fds == null ? 0 : fds.length) + " file descriptors instead of one memfd");
        }
        int capacity;
        try {
          capacity = SegmentDescriptor.checkCapacity(reply.capacity(), "the server's ring capacity ");
        } catch (IllegalArgumentException e) {
          throw new ShmProtocolException(e.getMessage());
        }
        if (reply.segmentLength() != SegmentDescriptor.segmentLength(capacity)) {
          throw new ShmProtocolException("the server announced a segment of " + reply.segmentLength()
              + " bytes for rings of " + capacity + " bytes; expected " + SegmentDescriptor.segmentLength(capacity));
        }
        mapping = MappedSegment.map(FileDescriptorCast.using(fds[0]).as(Integer.class), capacity);
      } finally {
        closeAll(fds);
      }
      Handshake.write(channel.socket().getOutputStream(), Handshake.mapped());
      channel.socket().setSoTimeout(0);
      String local = "shm://" + name + " client pid " + ProcessHandle.current().pid() + " idle=" + shm.idle();
      String remote = "shm://" + name + " server pid " + server.pid() + " (uid " + server.uid() + ") idle=" + reply.idle();
      ShmConnection c =
          new ShmConnection(
              ShmConnection.Side.CLIENT,
              mapping,
              channel,
              options,
              shm.idle(),
              shm.spinNanos(),
              local,
              remote,
              capabilities,
              Optional.of(server));
      mapping = null;
      channel = null;
      return c;
    } catch (ShmProtocolException e) {
      throw new ShmProtocolException(what + e.getMessage());
    } catch (NativeException e) {
      throw new IOException(what + e.getMessage(), e);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().startsWith(what)) {
        throw e;
      }
      IOException wrapped = e instanceof SocketTimeoutException
          ? new SocketTimeoutException(what + e.getMessage())
          : new IOException(what + e.getMessage());
      wrapped.initCause(e);
      throw wrapped;
    } finally {
      if (mapping != null) {
        mapping.close();
      }
      if (channel != null) {
        channel.close();
      }
    }
  }

  private static IOException explainConnect(IOException e, String what, Path path, int timeoutMillis) {
    IOException explained;
    if (e instanceof SocketTimeoutException) {
      explained = new SocketTimeoutException(
          what + "no connection within connectTimeout=" + timeoutMillis + "ms (is the server's accept backlog full?)");
    } else if (Files.notExists(path, LinkOption.NOFOLLOW_LINKS)) {
      explained = new ConnectException(
          what + "no server listens: there is no rendezvous socket at " + path
              + " (is the server running, as the same user, with the same transport option dir?)");
    } else if (e instanceof ConnectionRefusedSocketException) {
      explained = new ConnectException(
          what + "no server listens on " + path + " (connection refused: a stale socket left by a server that exited?)");
    } else {
      explained = new IOException(what + e.getMessage());
    }
    explained.initCause(e);
    return explained;
  }

  /** Closes received descriptors; wrapping them in a stream marks them invalid, so nothing closes them twice. */
  private static void closeAll(FileDescriptor[] fds) {
    if (fds == null) {
      return;
    }
    for (FileDescriptor fd : fds) {
      try (FileInputStream s = new FileInputStream(fd)) {
        // Closed by try-with-resources.
      } catch (IOException e) {
        // Nothing more to do.
      }
    }
  }
}
