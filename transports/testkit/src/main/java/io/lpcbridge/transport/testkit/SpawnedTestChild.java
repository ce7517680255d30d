package io.lpcbridge.transport.testkit;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The other process in the tests of transports whose parent launches its peer (pipe, socketpair).
 *
 * <pre>
 * echo TARGET LINE  serve TARGET (the child's side, e.g. pipe:stdio), print LINE on stdout, echo every message
 * parent TARGET     connect to TARGET (a command line), stream numbered messages, print "CHILD pid" on stdout
 * </pre>
 *
 * Each prints what its connection's onClosed saw on stderr ("child saw close: ", "parent saw
 * close: "), and lives at most two minutes.
 */
public final class SpawnedTestChild {
  /** A small, quick-starting JVM. */
  private static final List<String> JVM_FLAGS = List.of("-Xmx64m", "-XX:TieredStopAtLevel=1", "-Xshare:auto");

  private SpawnedTestChild() {}

  /** The command line that runs this class with {@code args} in a child JVM. */
  public static List<String> command(String... args) {
    return PeerProcess.javaCommand(JVM_FLAGS, SpawnedTestChild.class, args);
  }

  public static void main(String[] args) throws Exception {
    Thread.ofPlatform().daemon().start(() -> {
      try {
        Thread.sleep(TimeUnit.MINUTES.toMillis(2));
      } catch (InterruptedException ignored) {
        // Exit anyway.
      }
      Runtime.getRuntime().halt(3);
    });
    if (args[0].equals("echo")) {
      Listener l = Transports.listen(Target.parse(args[1]), TransportOptions.defaults());
      System.out.println(args[2]);
      l.start(c -> c.start(new MessageHandler() {
        @Override
        public void onMessage(ByteBuffer message) {
          c.send(message);
        }

        @Override
        public void onClosed(Throwable cause) {
          System.err.println("child saw close: " + cause);
        }
      }));
      Thread.sleep(Long.MAX_VALUE);
    } else if (args[0].equals("parent")) {
      Connection c = Transports.connect(Target.parse(args[1]), TransportOptions.defaults());
      CountDownLatch closed = new CountDownLatch(1);
      c.start(new MessageHandler() {
        @Override
        public void onMessage(ByteBuffer message) {}

        @Override
        public void onClosed(Throwable cause) {
          System.err.println("parent saw close: " + cause);
          closed.countDown();
        }
      });
      System.out.println("CHILD " + c.remoteAddress().replaceAll(".*pid (\\d+).*", "$1"));
      System.out.flush();
      for (long seq = 0; c.isOpen(); seq++) {
        c.send(NumberedMessage.encode(0, seq, 256));
        Thread.sleep(2);
      }
      closed.await();
    } else {
      throw new IllegalArgumentException("usage: echo TARGET LINE | parent TARGET");
    }
  }
}
