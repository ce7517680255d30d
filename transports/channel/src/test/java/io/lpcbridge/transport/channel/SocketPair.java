package io.lpcbridge.transport.channel;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

/** Two connected JDK unix-domain socket channels, in blocking mode. */
record SocketPair(SocketChannel a, SocketChannel b) implements AutoCloseable {

  static SocketPair open() throws IOException {
    Path dir = Files.createTempDirectory("sp");
    Path path = dir.resolve("s");
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(path));
      SocketChannel a = SocketChannel.open(UnixDomainSocketAddress.of(path));
      SocketChannel b = server.accept();
      return new SocketPair(a, b);
    } finally {
      Files.deleteIfExists(path);
      Files.deleteIfExists(dir);
    }
  }

  @Override
  public void close() throws IOException {
    a.close();
    b.close();
  }
}
