package io.lpcbridge.transport.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link MessageHandler} that copies every message into a queue, records {@code onWritable} and
 * {@code onClosed}, and checks the handler contract as it goes: {@code onMessage} never on two
 * threads at once, nothing after {@code onClosed}, {@code onClosed} exactly once. Violations are
 * collected and reported by {@link #assertContractKept()}.
 */
public class RecordingHandler implements MessageHandler {

  /** What a handler does with a message before it is recorded (echo it, stall on a latch...). */
  @FunctionalInterface
  public interface Reaction {
    void onMessage(ByteBuffer message) throws Exception;
  }

  private final Reaction reaction;
  private final BlockingQueue<byte[]> messages = new LinkedBlockingQueue<>();
  private final AtomicInteger received = new AtomicInteger();
  private final AtomicInteger inOnMessage = new AtomicInteger();
  private final AtomicInteger closedCalls = new AtomicInteger();
  private final AtomicReference<Throwable> closeCause = new AtomicReference<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Semaphore writable = new Semaphore(0);
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private volatile int receivedAtClose = -1;

  public RecordingHandler() {
    this(message -> {});
  }

  public RecordingHandler(Reaction reaction) {
    this.reaction = reaction;
  }

  /** A handler that sends every message back on {@code connection}, then records it. */
  public static RecordingHandler echoing(Connection connection) {
    return new RecordingHandler(message -> connection.send(message.duplicate()));
  }

  @Override
  public void onMessage(ByteBuffer message) {
    if (inOnMessage.incrementAndGet() != 1) {
      violations.add("onMessage called on two threads at once");
    }
    try {
      if (closedCalls.get() != 0) {
        violations.add("onMessage called after onClosed");
      }
      byte[] copy = new byte[message.remaining()];
      message.duplicate().get(copy);
      reaction.onMessage(message);
      received.incrementAndGet();
      messages.add(copy);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      violations.add("onMessage reaction interrupted");
    } catch (Exception e) {
      violations.add("onMessage reaction threw " + e + " at " + java.util.Arrays.toString(java.util.Arrays.copyOf(e.getStackTrace(), Math.min(8, e.getStackTrace().length))));
    } finally {
      inOnMessage.decrementAndGet();
    }
  }

  @Override
  public void onWritable() {
    writable.release();
  }

  @Override
  public void onClosed(Throwable cause) {
    if (closedCalls.incrementAndGet() != 1) {
      violations.add("onClosed called " + closedCalls.get() + " times (cause " + cause + ")");
      return;
    }
    if (inOnMessage.get() != 0) {
      violations.add("onClosed called while onMessage was running");
    }
    receivedAtClose = received.get();
    closeCause.set(cause);
    closed.countDown();
  }

  /** The next message, failing the test if none arrives within {@code timeout}. */
  public byte[] take(Duration timeout) {
    try {
      byte[] m = messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (m == null) {
        fail("no message within " + timeout + " (" + received.get() + " received so far"
            + (isClosed() ? ", connection closed with cause " + closeCause.get() : "")
            + (violations.isEmpty() ? "" : "; contract violations: " + violations) + ")");
      }
      return m;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for a message", e);
    }
  }

  /** The next {@code n} messages, each within {@code timeout} of the previous one. */
  public List<byte[]> take(int n, Duration timeout) {
    List<byte[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(take(timeout));
    }
    return out;
  }

  /** Messages received but not yet taken. */
  public int pending() {
    return messages.size();
  }

  /** Messages passed to {@code onMessage} so far. */
  public int receivedCount() {
    return received.get();
  }

  /** Waits for {@code onClosed}, failing the test if it does not come within {@code timeout}. */
  public Throwable awaitClosed(Duration timeout) {
    try {
      if (!closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        fail("onClosed not called within " + timeout + " (" + received.get() + " messages received)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for onClosed", e);
    }
    return closeCause.get();
  }

  /** Waits for {@code onClosed} and asserts it reported an orderly close (a null cause). */
  public void awaitClosedInOrder(Duration timeout) {
    Throwable cause = awaitClosed(timeout);
    if (cause != null) {
      throw new AssertionError("expected an orderly close (onClosed(null)), got cause " + cause, cause);
    }
  }

  public boolean isClosed() {
    return closed.getCount() == 0;
  }

  /** How many messages {@code onMessage} had been given when {@code onClosed} was called; -1 before. */
  public int receivedAtClose() {
    return receivedAtClose;
  }

  /** Waits for one {@code onWritable} call not yet awaited. */
  public boolean awaitWritable(Duration timeout) {
    try {
      return writable.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted waiting for onWritable", e);
    }
  }

  /** Asserts that no callback broke the {@link MessageHandler} threading and lifecycle rules. */
  public void assertContractKept() {
    assertEquals(List.of(), violations, "MessageHandler contract violations");
    assertTrue(closedCalls.get() <= 1, "onClosed called " + closedCalls.get() + " times");
  }
}
