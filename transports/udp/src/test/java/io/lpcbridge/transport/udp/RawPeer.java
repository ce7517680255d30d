package io.lpcbridge.transport.udp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * A hand-driven peer on a plain {@link DatagramSocket}: sends whatever bytes a test crafts to a
 * listener, and can walk through the handshake itself to get a real connection whose datagrams
 * then come from the right address.
 */
final class RawPeer implements AutoCloseable {
  final DatagramSocket socket;
  final InetSocketAddress server;
  long clientCid;
  long serverCid;
  long sent;
  long received;
  /** The last COOKIE_ECHO sent, for replays. */
  byte[] lastEcho;

  RawPeer(InetSocketAddress server) throws IOException {
    this.server = server;
    this.socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    socket.setSoTimeout(5000);
  }

  void send(byte[] datagram) throws IOException {
    socket.send(new DatagramPacket(datagram, datagram.length, server));
    sent += datagram.length;
  }

  /** The next datagram received, or null if none comes within {@code millis}. */
  byte[] receive(int millis) throws IOException {
    socket.setSoTimeout(millis);
    byte[] buf = new byte[65_536];
    DatagramPacket p = new DatagramPacket(buf, buf.length);
    try {
      socket.receive(p);
    } catch (SocketTimeoutException e) {
      return null;
    }
    received += p.getLength();
    return Arrays.copyOf(buf, p.getLength());
  }

  /** The next datagram of the given type, skipping others (retransmissions, PINGs...). */
  byte[] receiveType(int type, int millis) throws IOException {
    long deadline = System.currentTimeMillis() + millis;
    while (System.currentTimeMillis() < deadline) {
      byte[] d = receive((int) Math.max(1, deadline - System.currentTimeMillis()));
      if (d != null && d.length > Wire.TYPE_OFFSET && (d[Wire.TYPE_OFFSET] & 0xff) == type) {
        return d;
      }
    }
    return null;
  }

  static byte[] bytes(ByteBuf b) {
    byte[] out = new byte[b.readableBytes()];
    b.getBytes(b.readerIndex(), out);
    b.release();
    return out;
  }

  static byte[] init(long clientCid, int datagramSize) {
    ByteBuf b = Unpooled.buffer();
    Packets.writeInit(b, clientCid, new Packets.Params(datagramSize, 64, 1024 * 1024));
    return bytes(b);
  }

  /** Sends INIT and returns the answer (COOKIE or REFUSE), or null if none came. */
  byte[] requestCookie(long cid) throws IOException {
    clientCid = cid;
    send(init(cid, 1200));
    long deadline = System.currentTimeMillis() + 2000;
    while (System.currentTimeMillis() < deadline) {
      byte[] d = receive((int) Math.max(1, deadline - System.currentTimeMillis()));
      int type = d == null || d.length <= Wire.TYPE_OFFSET ? -1 : d[Wire.TYPE_OFFSET] & 0xff;
      if (type == Wire.TYPE_COOKIE || type == Wire.TYPE_REFUSE) {
        return d; // anything else is traffic of an earlier connection of this socket
      }
    }
    return null;
  }

  /** The COOKIE_ECHO for a COOKIE, with this peer's parameters. */
  byte[] echoFor(byte[] cookie) {
    ByteBuf c = Unpooled.wrappedBuffer(cookie);
    long sCid = Packets.handshakeCid(c);
    ByteBuf b = Unpooled.buffer();
    Packets.writeCookie(b, Wire.TYPE_COOKIE_ECHO, sCid, clientCid, new Packets.Params(1200, 64, 1024 * 1024),
        Packets.cookieTimestamp(c), Packets.cookieMac(c));
    serverCid = sCid;
    return bytes(b);
  }

  /** The full handshake; returns the ACCEPT or REFUSE received. */
  byte[] handshake(long cid) throws IOException {
    byte[] cookie = requestCookie(cid);
    if (cookie == null || (cookie[Wire.TYPE_OFFSET] & 0xff) != Wire.TYPE_COOKIE) {
      return cookie;
    }
    lastEcho = echoFor(cookie);
    send(lastEcho);
    byte[] answer = receive(2000);
    while (answer != null && (answer[Wire.TYPE_OFFSET] & 0xff) == Wire.TYPE_SESSION) {
      answer = receive(2000); // the server may already talk; wait for ACCEPT
    }
    return answer;
  }

  /** A SESSION datagram to this peer's server connection: cumulative ack, then one chunk. */
  byte[] chunk(long cumAck, long seq, byte[] message, int offset, int length) {
    ByteBuf d = Unpooled.buffer();
    Packets.writeHeader(d, Wire.TYPE_SESSION, serverCid);
    d.writeByte(0).writeByte(0).writeShort(0).writeLong(cumAck).writeInt(64);
    d.writeLong(seq).writeInt(message.length).writeInt(offset).writeShort(length).writeByte(0).writeByte(0);
    d.writeBytes(message, offset, length);
    return bytes(d);
  }

  @Override
  public void close() {
    socket.close();
  }
}
