package io.lpcbridge.server;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Speaks the bridge wire protocol by hand over a plain TCP socket, so tests can send what no
 * well-behaved client would. Byte layouts follow docs/wire-protocol.md, written out here on
 * purpose rather than borrowed from bridge-core.
 */
final class RawWire implements AutoCloseable {
  static final byte HELLO = 0;
  static final byte CALL_START = 1;
  static final byte MESSAGE = 2;
  static final byte GOAWAY = 9;

  final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;

  RawWire(String host, int port) throws IOException {
    socket = new Socket(host, port);
    socket.setSoTimeout(10_000);
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  static byte[] frame(byte type, byte flags, int stream, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(12 + payload.length);
    b.putInt(payload.length).put(type).put(flags).putShort((short) 0).putInt(stream).put(payload);
    return b.array();
  }

  static byte[] hello() {
    ByteBuffer p = ByteBuffer.allocate(16);
    p.putInt(0x4C504342).putShort((short) 1).putShort((short) 0).putInt(1 << 20).putInt(4 << 20);
    return frame(HELLO, (byte) 0, 0, p.array());
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    ByteBuffer b = ByteBuffer.allocate(n);
    for (byte[] p : parts) {
      b.put(p);
    }
    return b.array();
  }

  /** Sends one transport message: the tcp transport's 4-byte length prefix, then the bytes. */
  void sendMessage(byte[] message) throws IOException {
    sendRaw(ByteBuffer.allocate(4).putInt(message.length).array());
    sendRaw(message);
  }

  void sendRaw(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
  }

  /** Reads one transport message, or null at end of stream. */
  ByteBuffer readMessage() throws IOException {
    int len;
    try {
      len = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    byte[] m = new byte[len];
    in.readFully(m);
    return ByteBuffer.wrap(m);
  }

  /** Reads until a GOAWAY arrives and returns its reason, or null if the stream ends first. */
  String awaitGoAway() throws IOException {
    ByteBuffer m;
    while ((m = readMessage()) != null) {
      while (m.remaining() >= 12) {
        int len = m.getInt();
        byte type = m.get();
        m.get();
        m.getShort();
        m.getInt();
        byte[] payload = new byte[len];
        m.get(payload);
        if (type == GOAWAY) {
          return new String(payload, 8, payload.length - 8, StandardCharsets.UTF_8);
        }
      }
    }
    return null;
  }

  /** True when the peer has closed the connection (reads EOF). */
  boolean closedByPeer() throws IOException {
    while (true) {
      try {
        if (readMessage() == null) {
          return true;
        }
      } catch (java.net.SocketException e) {
        return true;
      }
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
