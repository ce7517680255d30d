package io.lpcbridge.bench;

import com.google.gson.Gson;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The bench server's control socket (a JDK Unix socket, apart from every measured path): the client
 * asks for the server's {@link ProcessStats} at the edges of each measured window, so both sides'
 * CPU time and context switches come from each process's own accounting.
 */
final class Control {
  private static final Gson GSON = new Gson();

  private Control() {}

  /** Serves {@code stats} requests on {@code path} on a daemon thread. */
  static void serve(Path path) throws IOException {
    Files.deleteIfExists(path);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    server.bind(UnixDomainSocketAddress.of(path));
    Thread.ofPlatform().daemon().name("bench-control").start(() -> {
      while (true) {
        SocketChannel c;
        try {
          c = server.accept();
        } catch (IOException e) {
          return;
        }
        Thread.ofPlatform().daemon().name("bench-control").start(() -> answer(c));
      }
    });
  }

  private static void answer(SocketChannel c) {
    try (c;
        BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(c), StandardCharsets.UTF_8));
        PrintWriter out = new PrintWriter(new OutputStreamWriter(Channels.newOutputStream(c), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("stats")) {
          out.println(GSON.toJson(ProcessStats.self()));
        } else {
          out.println("{\"error\":\"unknown request\"}");
        }
        out.flush();
      }
    } catch (IOException e) {
      // The client went away.
    }
  }

  /** The client's end. */
  static final class Client implements AutoCloseable {
    private final SocketChannel channel;
    private final BufferedReader in;
    private final PrintWriter out;

    private Client(SocketChannel channel) {
      this.channel = channel;
      this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
      this.out = new PrintWriter(new OutputStreamWriter(Channels.newOutputStream(channel), StandardCharsets.UTF_8));
    }

    /** Connects, waiting up to {@code timeout} for the socket to appear (a spawned peer creates it late). */
    static Client connect(Path path, Duration timeout) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (true) {
        try {
          return new Client(SocketChannel.open(UnixDomainSocketAddress.of(path)));
        } catch (IOException e) {
          if (System.nanoTime() > deadline) {
            throw new IOException("no bench server control socket at " + path + " after " + timeout.toSeconds() + " s", e);
          }
          Thread.sleep(20);
        }
      }
    }

    ProcessStats stats() throws IOException {
      out.println("stats");
      out.flush();
      String line = in.readLine();
      if (line == null) {
        throw new IOException("the bench server closed its control socket (did it die?)");
      }
      return GSON.fromJson(line, ProcessStats.class);
    }

    @Override
    public void close() throws IOException {
      channel.close();
    }
  }
}
