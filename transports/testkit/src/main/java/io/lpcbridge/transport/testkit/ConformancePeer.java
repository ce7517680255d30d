package io.lpcbridge.transport.testkit;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The other process in the conformance suite's peer-crash tests. It is killed with SIGKILL by the
 * test, so it keeps no state worth saving.
 *
 * <pre>
 * java -cp ... io.lpcbridge.transport.testkit.ConformancePeer connect TARGET [key=value ...]
 * java -cp ... io.lpcbridge.transport.testkit.ConformancePeer listen  TARGET [key=value ...]
 * </pre>
 *
 * {@code connect} dials TARGET, prints {@code CONNECTED}, and streams {@link NumberedMessage}s.
 * {@code listen} binds TARGET, prints {@code LISTENING <bound target>}, and streams to every peer
 * that connects. Either way it exits when its standard input reaches end of file (the test JVM is
 * gone) or after {@link #MAX_LIFETIME_SECONDS}, so a crashed test run leaves no orphan behind.
 */
public final class ConformancePeer {
  /** First word of the line printed once connected. */
  public static final String CONNECTED = "CONNECTED";
  /** First word of the line printed once listening; the bound target follows. */
  public static final String LISTENING = "LISTENING";

  static final int MAX_LIFETIME_SECONDS = 120;
  private static final int PAYLOAD = 512;

  private ConformancePeer() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 2 || !(args[0].equals("connect") || args[0].equals("listen"))) {
      System.err.println("usage: ConformancePeer connect|listen TARGET [key=value ...]");
      System.exit(2);
    }
    exitWhenParentGoes();
    Target target = Target.parse(args[1]);
    Map<String, String> opts = new LinkedHashMap<>();
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      opts.put(args[i].substring(0, eq), args[i].substring(eq + 1));
    }
    TransportOptions options = TransportOptions.of(opts);
    if (args[0].equals("connect")) {
      Connection c = Transports.connect(target, options);
      Streamer s = new Streamer(c);
      c.start(s);
      System.out.println(CONNECTED + " " + c.localAddress());
      System.out.flush();
      s.run();
    } else {
      Listener l = Transports.listen(target, options);
      l.start(
          c -> {
            Streamer s = new Streamer(c);
            c.start(s);
            Thread.ofPlatform().daemon().name("peer-stream").start(s);
          });
      System.out.println(LISTENING + " " + l.localTarget());
      System.out.flush();
      Thread.sleep(TimeUnit.SECONDS.toMillis(MAX_LIFETIME_SECONDS));
    }
    System.exit(0);
  }

  private static void exitWhenParentGoes() {
    Thread.ofPlatform()
        .daemon()
        .name("peer-watchdog")
        .start(
            () -> {
              try {
                InputStream in = System.in;
                while (in.read() >= 0) {
                  // The parent writes nothing; EOF means it is gone.
                }
              } catch (IOException e) {
                // Treated like EOF.
              }
              Runtime.getRuntime().halt(0);
            });
    Thread.ofPlatform()
        .daemon()
        .name("peer-lifetime")
        .start(
            () -> {
              try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(MAX_LIFETIME_SECONDS));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              Runtime.getRuntime().halt(0);
            });
  }

  /** Sends numbered messages at a modest pace while the connection is open and writable. */
  private static final class Streamer implements MessageHandler, Runnable {
    private final Connection connection;
    private final Semaphore writable = new Semaphore(0);

    Streamer(Connection connection) {
      this.connection = connection;
    }

    @Override
    public void run() {
      try {
        for (long seq = 0; connection.isOpen(); seq++) {
          while (!connection.isWritable() && connection.isOpen()) {
            writable.tryAcquire(50, TimeUnit.MILLISECONDS);
          }
          ByteBuffer m = NumberedMessage.encode(0, seq, PAYLOAD);
          connection.send(m);
          if (seq % 16 == 15) {
            // Pacing, not synchronization: a few thousand messages a second keep the test's
            // receiver busy without eating the shared CPUs.
            Thread.sleep(5);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

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
  }
}
