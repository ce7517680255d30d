package io.lpcbridge.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The plain-socket floor: JDK blocking {@link SocketChannel}s, one thread per connection that reads
 * a length-prefixed {@link RawProtocol} message and answers it on the same thread. Nothing is
 * cheaper in Java; it is the floor under stock gRPC's rows (whose sockets are not SPI connections).
 *
 * <p>The {@code udp} family is a plain UDP ping-pong instead: one blocking {@link DatagramChannel}
 * on 127.0.0.1 and one thread that receives a datagram and sends it back to where it came from, as
 * it is. No framing, no reliability: one message is one datagram ({@value #MAX_DATAGRAM} bytes at
 * most), for the unary round trip only. It is what a UDP round trip costs in Java, under raw/udp
 * (the udp transport with its reliability layer) and bridge/udp.
 */
final class SocketEchoServer {
  /** The largest UDP payload over IPv4: 65535 - 8 (UDP header) - 20 (IP header). */
  static final int MAX_DATAGRAM = 65_507;

  private final NetworkChannel channel;
  private final String target;

  private SocketEchoServer(NetworkChannel channel, String target) {
    this.channel = channel;
    this.target = target;
  }

  /** Binds {@code tcp://127.0.0.1:0}, {@code udp://127.0.0.1:0} or {@code unix:///path}. */
  static SocketEchoServer bind(String family, String requested) throws IOException {
    if (family.equals("udp")) {
      DatagramChannel d = DatagramChannel.open(StandardProtocolFamily.INET);
      d.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = ((InetSocketAddress) d.getLocalAddress()).getPort();
      return new SocketEchoServer(d, "udp://127.0.0.1:" + port);
    }
    if (family.equals("tcp")) {
      ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.INET);
      s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = ((InetSocketAddress) s.getLocalAddress()).getPort();
      return new SocketEchoServer(s, "tcp://127.0.0.1:" + port);
    }
    Path path = Path.of(requested.substring("unix://".length()));
    Files.deleteIfExists(path);
    ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    s.bind(UnixDomainSocketAddress.of(path));
    return new SocketEchoServer(s, "unix://" + path);
  }

  String target() {
    return target;
  }

  void start() {
    if (channel instanceof DatagramChannel d) {
      Thread.ofPlatform().daemon().name("bench-socket-udp-echo").start(() -> echoDatagrams(d));
      return;
    }
    ServerSocketChannel server = (ServerSocketChannel) channel;
    Thread.ofPlatform().daemon().name("bench-socket-accept").start(() -> {
      while (true) {
        SocketChannel c;
        try {
          c = server.accept();
        } catch (IOException e) {
          return;
        }
        Thread.ofPlatform().daemon().name("bench-socket-echo").start(() -> serve(c));
      }
    });
  }

  /** Sends every datagram back to its source, as it is, until the channel is closed. */
  private static void echoDatagrams(DatagramChannel d) {
    ByteBuffer b = ByteBuffer.allocateDirect(MAX_DATAGRAM);
    while (true) {
      try {
        b.clear();
        SocketAddress from = d.receive(b);
        d.send(b.flip(), from);
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException e) {
        // A datagram that could not be answered is lost, as datagrams are; the client's receive
        // timeout reports it.
        if (!d.isOpen()) {
          return;
        }
      }
    }
  }

  private static void serve(SocketChannel c) {
    try (c) {
      if (c.getLocalAddress() instanceof InetSocketAddress) {
        c.setOption(StandardSocketOptions.TCP_NODELAY, true);
      }
      SocketFrames frames = new SocketFrames(c);
      ByteBuffer reply = ByteBuffer.allocate(16);
      ByteBuffer data = ByteBuffer.allocateDirect(16);
      long received = 0;
      while (true) {
        ByteBuffer m = frames.read();
        switch (m.get(0)) {
          case RawProtocol.ECHO -> frames.write(m);
          case RawProtocol.DATA -> received++;
          case RawProtocol.FINISH -> {
            frames.write(RawProtocol.ack(reply, received));
            received = 0;
          }
          case RawProtocol.STREAM -> {
            int count = m.getInt(1);
            int size = m.getInt(5);
            if (data.capacity() < size) {
              data = ByteBuffer.allocateDirect(size);
            }
            for (int i = 0; i < count; i++) {
              frames.write(RawProtocol.data(data, size));
            }
          }
          default -> throw new IOException("unknown raw operation " + m.get(0));
        }
      }
    } catch (EOFException e) {
      // The client closed.
    } catch (IOException e) {
      // The client went away mid-message.
    }
  }
}
