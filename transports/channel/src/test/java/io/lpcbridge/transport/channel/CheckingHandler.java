package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.MessageHandler;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Copies every message it receives and checks the callback contract as it goes. */
class CheckingHandler implements MessageHandler {
  static final long TIMEOUT_SECONDS = 30;

  final List<byte[]> messages = new ArrayList<>();
  final CountDownLatch closed = new CountDownLatch(1);
  final AtomicInteger closedCalls = new AtomicInteger();
  final AtomicInteger writableCalls = new AtomicInteger();
  final List<String> violations = new ArrayList<>();
  volatile Throwable cause;
  private final AtomicInteger inOnMessage = new AtomicInteger();

  @Override
  public void onMessage(ByteBuffer message) {
    if (inOnMessage.incrementAndGet() != 1) {
      violation("onMessage called by two threads at once");
    }
    if (closedCalls.get() > 0) {
      violation("onMessage after onClosed");
    }
    byte[] copy = new byte[message.remaining()];
    message.get(copy);
    synchronized (this) {
      messages.add(copy);
      notifyAll();
    }
    received(copy);
    inOnMessage.decrementAndGet();
  }

  /** Hook for subclasses, on the reader thread. */
  void received(byte[] message) {}

  @Override
  public void onWritable() {
    if (closedCalls.get() > 0) {
      violation("onWritable after onClosed");
    }
    writableCalls.incrementAndGet();
  }

  @Override
  public void onClosed(Throwable cause) {
    if (closedCalls.incrementAndGet() != 1) {
      violation("onClosed called twice");
    }
    this.cause = cause;
    closed.countDown();
  }

  private synchronized void violation(String what) {
    violations.add(what);
  }

  synchronized List<byte[]> awaitMessages(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (messages.size() < count) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("got " + messages.size() + " of " + count + " messages");
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return new ArrayList<>(messages);
  }

  Throwable awaitClosed() throws InterruptedException {
    if (!closed.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      throw new AssertionError("onClosed was not called within " + TIMEOUT_SECONDS + "s");
    }
    return cause;
  }

  synchronized List<String> violations() {
    return new ArrayList<>(violations);
  }
}
