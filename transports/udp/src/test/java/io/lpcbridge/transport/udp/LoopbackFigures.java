package io.lpcbridge.transport.udp;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Figures for the README, not a test: loopback ping-pong round trips over the udp transport
 * beside a plain {@link DatagramChannel} ping-pong measured in the same run, and streaming
 * throughput through {@link LossyRelay} without loss and with 10% loss each way. Both processes'
 * ends run in this JVM (the comparison harness in bench/ runs them in two).
 *
 * <pre>
 * ./mvnw -q -B -o -pl transports/udp -am test-compile
 * N=~/.m2/repository/io/netty; V=4.2.18.Final
 * CP=transports/udp/target/test-classes:transports/udp/target/classes:transports/spi/target/classes
 * for a in transport buffer common resolver transport-classes-epoll transport-native-unix-common; do
 *   CP=$CP:$N/netty-$a/$V/netty-$a-$V.jar; done
 * CP=$CP:$N/netty-transport-native-epoll/$V/netty-transport-native-epoll-$V-linux-x86_64.jar
 * java --enable-native-access=ALL-UNNAMED -cp $CP io.lpcbridge.transport.udp.LoopbackFigures [all|raw|udp|pingpong|throughput] [rounds]
 * </pre>
 */
public final class LoopbackFigures {
  private static final int PAYLOAD = 64;

  private LoopbackFigures() {}

  public static void main(String[] args) throws Exception {
    String what = args.length > 0 ? args[0] : "all";
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
    System.out.printf("java %s, %d cpus%n", Runtime.version(), Runtime.getRuntime().availableProcessors());
    for (int run = 0; run < 3 && !what.equals("throughput"); run++) {
      if (!what.equals("udp")) {
        report("raw DatagramChannel ping-pong", rawPingPong(rounds));
      }
      if (!what.equals("raw") && !what.equals("udp")) {
        report("Netty datagram channels ping-pong (same event loops, no protocol)", nettyPingPong(rounds));
      }
      if (!what.equals("raw")) {
        report("udp transport ping-pong, reply and next request sent from onMessage", transportPingPong(rounds, false));
        report("udp transport ping-pong, application thread waits for each reply", transportPingPong(rounds, true));
      }
    }
    if (!what.equals("all") && !what.equals("throughput")) {
      System.exit(0);
    }
    for (int datagram : new int[] {16 * 1024, 1200}) {
      for (double loss : new double[] {-1, 0.0, 0.10, -1, 0.0, 0.10}) {
        throughput(datagram, 16 * 1024, 256L * 1024 * 1024 / (datagram == 1200 ? 4 : 1), loss);
      }
    }
    System.exit(0);
  }

  private static void report(String what, long[] nanos) {
    Arrays.sort(nanos);
    System.out.printf("%-75s p50 %6.1f us  p99 %7.1f us  (%d round trips, %d bytes)%n", what,
        nanos[nanos.length / 2] / 1e3, nanos[(int) (nanos.length * 0.99)] / 1e3, nanos.length, PAYLOAD);
  }

  // ---------------------------------------------------------------- raw UDP

  private static long[] rawPingPong(int rounds) throws Exception {
    InetAddress lo = InetAddress.getLoopbackAddress();
    try (DatagramChannel server = DatagramChannel.open().bind(new InetSocketAddress(lo, 0));
         DatagramChannel client = DatagramChannel.open().bind(new InetSocketAddress(lo, 0))) {
      client.connect(server.getLocalAddress());
      server.connect(client.getLocalAddress());
      Thread echo = Thread.ofPlatform().daemon().start(() -> {
        ByteBuffer b = ByteBuffer.allocateDirect(2048);
        try {
          while (true) {
            server.read(b.clear());
            server.write(b.flip());
          }
        } catch (IOException e) {
          // closed
        }
      });
      ByteBuffer out = ByteBuffer.allocateDirect(PAYLOAD);
      ByteBuffer in = ByteBuffer.allocateDirect(2048);
      long[] t = new long[rounds];
      for (int i = -rounds / 2; i < rounds; i++) {
        long start = System.nanoTime();
        client.write(out.clear());
        client.read(in.clear());
        if (i >= 0) {
          t[i] = System.nanoTime() - start;
        }
      }
      echo.interrupt();
      return t;
    }
  }

  // ---------------------------------------------------------------- Netty, no protocol

  private static long[] nettyPingPong(int rounds) throws Exception {
    UdpEventLoops loops = UdpEventLoops.preferred();
    InetSocketAddress any = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    io.netty.channel.Channel server = new io.netty.bootstrap.Bootstrap().group(loops.group()).channel(loops.channelClass())
        .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            io.netty.channel.socket.DatagramPacket p = (io.netty.channel.socket.DatagramPacket) msg;
            ctx.write(new io.netty.channel.socket.DatagramPacket(p.content(), p.sender()), ctx.voidPromise());
          }

          @Override
          public void channelReadComplete(io.netty.channel.ChannelHandlerContext ctx) {
            ctx.flush();
          }
        }).bind(any).sync().channel();
    long[] t = new long[rounds];
    CountDownLatch done = new CountDownLatch(1);
    long[] start = new long[1];
    int[] i = {-rounds / 2};
    io.netty.channel.Channel client = new io.netty.bootstrap.Bootstrap().group(loops.group()).channel(loops.channelClass())
        .handler(new io.netty.channel.ChannelInboundHandlerAdapter() {
          @Override
          public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
            long now = System.nanoTime();
            io.netty.channel.socket.DatagramPacket p = (io.netty.channel.socket.DatagramPacket) msg;
            if (i[0] >= 0) {
              t[i[0]] = now - start[0];
            }
            if (++i[0] == rounds) {
              p.release();
              done.countDown();
              return;
            }
            start[0] = System.nanoTime();
            ctx.write(p.content(), ctx.voidPromise());
          }

          @Override
          public void channelReadComplete(io.netty.channel.ChannelHandlerContext ctx) {
            ctx.flush();
          }
        }).connect(server.localAddress()).sync().channel();
    start[0] = System.nanoTime();
    client.writeAndFlush(client.alloc().directBuffer(PAYLOAD).writeZero(PAYLOAD)).sync();
    done.await();
    client.close().sync();
    server.close().sync();
    return t;
  }

  // ---------------------------------------------------------------- udp transport

  private static long[] transportPingPong(int rounds, boolean applicationThread) throws Exception {
    Target target = Target.parse("udp://127.0.0.1:0");
    TransportOptions options = TransportOptions.defaults();
    try (Listener l = Transports.listen(target, options)) {
      l.start(c -> c.start(new MessageHandler() {
        @Override
        public void onMessage(ByteBuffer message) {
          c.send(message);
        }

        @Override
        public void onClosed(Throwable cause) {}
      }));
      Connection client = Transports.connect(l.localTarget(), options);
      long[] t = new long[rounds];
      ByteBuffer request = ByteBuffer.allocate(PAYLOAD);
      CountDownLatch done = new CountDownLatch(1);
      Semaphore reply = new Semaphore(0);
      long[] start = new long[1];
      int[] i = {-rounds / 2};
      client.start(new MessageHandler() {
        @Override
        public void onMessage(ByteBuffer message) {
          long now = System.nanoTime();
          if (applicationThread) {
            reply.release();
            return;
          }
          if (i[0] >= 0) {
            t[i[0]] = now - start[0];
          }
          if (++i[0] == rounds) {
            done.countDown();
            return;
          }
          start[0] = System.nanoTime();
          client.send(request.duplicate());
        }

        @Override
        public void onClosed(Throwable cause) {}
      });
      if (applicationThread) {
        for (int k = -rounds / 2; k < rounds; k++) {
          long s = System.nanoTime();
          client.send(request.duplicate());
          reply.acquire();
          if (k >= 0) {
            t[k] = System.nanoTime() - s;
          }
        }
      } else {
        start[0] = System.nanoTime();
        client.send(request.duplicate());
        done.await();
      }
      client.close();
      return t;
    }
  }

  /** Streams {@code bytes} in messages of {@code size} from client to server through a relay. */
  private static void throughput(int datagram, int size, long bytes, double loss) throws Exception {
    Target target = Target.parse("udp://127.0.0.1:0");
    TransportOptions options = TransportOptions.defaults().with(UdpSettings.DATAGRAM_SIZE, datagram);
    AtomicLong received = new AtomicLong();
    CountDownLatch all = new CountDownLatch(1);
    try (Listener l = Transports.listen(target, options)) {
      l.start(c -> c.start(new MessageHandler() {
        @Override
        public void onMessage(ByteBuffer message) {
          if (received.addAndGet(message.remaining()) >= bytes) {
            all.countDown();
          }
        }

        @Override
        public void onClosed(Throwable cause) {}
      }));
      int port = Integer.parseInt(l.localTarget().toString().replaceAll(".*:", ""));
      try (LossyRelay relay = new LossyRelay(new InetSocketAddress("127.0.0.1", port), 42)) {
        relay.drop = Math.max(0, loss);
        int via = loss < 0 ? port : relay.address().getPort(); // loss -1: straight to the server
        Connection client = Transports.connect(Target.parse("udp://127.0.0.1:" + via), options);
        Semaphore writable = new Semaphore(0);
        client.start(new MessageHandler() {
          @Override
          public void onMessage(ByteBuffer message) {}

          @Override
          public void onWritable() {
            writable.release();
          }

          @Override
          public void onClosed(Throwable cause) {
            writable.release();
          }
        });
        ByteBuffer m = ByteBuffer.allocate(size);
        long start = System.nanoTime();
        for (long sent = 0; sent < bytes; sent += size) {
          while (!client.isWritable() && client.isOpen()) {
            writable.tryAcquire(10, TimeUnit.MILLISECONDS);
          }
          client.send(m.duplicate());
        }
        if (!all.await(120, TimeUnit.SECONDS)) {
          System.out.println("  (incomplete: " + received.get() + " of " + bytes + ")");
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        UdpStats s = UdpTransportProvider.stats(client).orElseThrow();
        System.out.printf("throughput %-10s datagram %5d, %5d-byte messages, loss %2.0f%% each way: %7.1f MB/s"
                + "  (%d MiB in %.2f s; retransmitted %d, timeouts %d, srtt %d us)%n",
            loss < 0 ? "direct," : "via relay,", datagram, size, Math.max(0, loss) * 100, bytes / seconds / 1e6, bytes >> 20, seconds,
            s.count(UdpStats.Counter.SEGMENTS_RETRANSMITTED), s.count(UdpStats.Counter.RETRANSMISSION_TIMEOUTS),
            s.smoothedRtt().toNanos() / 1000);
        client.close();
      }
    }
  }
}
