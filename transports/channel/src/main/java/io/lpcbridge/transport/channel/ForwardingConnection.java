package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.MessageHandler;
import io.lpcbridge.transport.PeerCredentials;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A connection that forwards to another and lets a subclass act around {@code onClosed}: the
 * handler's {@code onClosed} gets {@link #explain}'s cause, and {@link #afterClosed} runs after it,
 * both on the transport thread that delivers {@code onClosed}.
 */
abstract class ForwardingConnection implements Connection {
  final Connection delegate;
  /** Set by close(): the closing was this side's idea. */
  volatile boolean closeCalled;

  ForwardingConnection(Connection delegate) {
    this.delegate = delegate;
  }

  /** The cause to hand the application's {@code onClosed}; {@code cause} unchanged by default. */
  Throwable explain(Throwable cause) {
    return cause;
  }

  /** Runs after the application's {@code onClosed} returned or threw. */
  void afterClosed(Throwable cause) {}

  @Override
  public void start(MessageHandler handler) {
    delegate.start(
        new MessageHandler() {
          @Override
          public void onMessage(ByteBuffer message) {
            handler.onMessage(message);
          }

          @Override
          public void onWritable() {
            handler.onWritable();
          }

          @Override
          public void onClosed(Throwable cause) {
            Throwable explained = explain(cause);
            try {
              handler.onClosed(explained);
            } finally {
              afterClosed(explained);
            }
          }
        });
  }

  @Override
  public boolean send(ByteBuffer message) {
    return delegate.send(message);
  }

  @Override
  public boolean isWritable() {
    return delegate.isWritable();
  }

  @Override
  public void close() {
    closeCalled = true;
    delegate.close();
  }

  @Override
  public boolean isOpen() {
    return delegate.isOpen();
  }

  @Override
  public int maxMessageSize() {
    return delegate.maxMessageSize();
  }

  @Override
  public boolean receiveInline(BooleanSupplier done, long timeoutNanos) {
    return delegate.receiveInline(done, timeoutNanos);
  }

  @Override
  public void wakeReceivers() {
    delegate.wakeReceivers();
  }

  @Override
  public Set<Capability> capabilities() {
    return delegate.capabilities();
  }

  @Override
  public String localAddress() {
    return delegate.localAddress();
  }

  @Override
  public String remoteAddress() {
    return delegate.remoteAddress();
  }

  @Override
  public Optional<PeerCredentials> peerCredentials() {
    return delegate.peerCredentials();
  }

  @Override
  public String toString() {
    return delegate.toString();
  }
}
