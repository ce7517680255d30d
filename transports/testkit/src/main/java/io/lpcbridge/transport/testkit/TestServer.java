package io.lpcbridge.transport.testkit;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A started {@link Listener} that starts every accepted connection with a fresh {@link
 * RecordingHandler} and queues it for the test. {@link #close()} closes the listener and every
 * connection it accepted.
 */
public final class TestServer implements AutoCloseable {

  /** An accepted, started connection and the handler it was started with. */
  public record Accepted(Connection connection, RecordingHandler handler) {}

  private final Listener listener;
  private final BlockingQueue<Accepted> accepted = new LinkedBlockingQueue<>();
  private final List<Connection> all = new CopyOnWriteArrayList<>();

  /** Starts {@code listener}; {@code handlers} makes the handler for each accepted connection. */
  public TestServer(Listener listener, Function<Connection, RecordingHandler> handlers) {
    this.listener = listener;
    listener.start(
        connection -> {
          all.add(connection);
          RecordingHandler h = handlers.apply(connection);
          connection.start(h);
          accepted.add(new Accepted(connection, h));
        });
  }

  public Listener listener() {
    return listener;
  }

  /** Where clients connect: the listener's bound target. */
  public Target target() {
    return listener.localTarget();
  }

  /** The next accepted connection, failing the test if none comes within {@code timeout}. */
  public Accepted awaitAccepted(Duration timeout) throws InterruptedException {
    Accepted a = accepted.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (a == null) {
      throw new AssertionError("listener on " + target() + " accepted no connection within " + timeout);
    }
    return a;
  }

  @Override
  public void close() {
    listener.close();
    for (Connection c : all) {
      c.close();
    }
  }
}
