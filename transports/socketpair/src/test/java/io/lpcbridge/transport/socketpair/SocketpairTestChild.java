package io.lpcbridge.transport.socketpair;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import io.lpcbridge.transport.testkit.NumberedMessage;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The other process of the socketpair tests.
 *
 * <pre>
 * echo            serve socketpair:inherited, echo every message
 * parent CMDLINE  connect to socketpair:CMDLINE, stream numbered messages, print "CHILD pid" on stdout
 * </pre>
 *
 * Each prints what its connection's onClosed saw on stderr, and lives at most two minutes.
 */
public final class SocketpairTestChild {
  private SocketpairTestChild() {}

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
      Listener l = Transports.listen(Target.parse("socketpair:inherited"), TransportOptions.defaults());
      System.out.println("the worker prints to the parent's stderr");
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
      Connection c = Transports.connect(Target.parse("socketpair:" + args[1]), TransportOptions.defaults());
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
    }
  }
}
