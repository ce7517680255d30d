package io.lpcbridge.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A {@link ManagedChannel} that carries calls over the bridge wire protocol on any transport of
 * the Transport SPI. Built by {@link BridgeChannelBuilder}; stock generated stubs use it unchanged.
 *
 * <p>One connection (a {@code WireSession}) carries every call, multiplexed. Calls made while it
 * is being established wait for it; when it drops, calls on it fail with UNAVAILABLE and the next
 * call reconnects, with exponential backoff after failed attempts.
 */
public final class BridgeChannel extends ManagedChannel {
  private final ClientTransportManager transport;
  private final Executor executor;
  private final String authority;
  private final Channel intercepted;

  BridgeChannel(ClientTransportManager transport, Executor executor, String authority, List<ClientInterceptor> interceptors) {
    this.transport = transport;
    this.executor = executor;
    this.authority = authority;
    this.intercepted = ClientInterceptors.intercept(new Raw(), interceptors);
  }

  /** The channel below the interceptors. */
  private final class Raw extends Channel {
    @Override
    public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(MethodDescriptor<ReqT, RespT> method, CallOptions callOptions) {
      if (transport.isShutdown()) {
        return new FailingCall<>(Status.UNAVAILABLE.withDescription("Channel shutdown invoked"));
      }
      return new BridgeClientCall<>(method, callOptions, transport, authority, executor);
    }

    @Override
    public String authority() {
      return authority;
    }
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(MethodDescriptor<ReqT, RespT> method, CallOptions callOptions) {
    return intercepted.newCall(method, callOptions);
  }

  @Override
  public String authority() {
    return authority;
  }

  @Override
  public ManagedChannel shutdown() {
    transport.shutdown();
    return this;
  }

  @Override
  public boolean isShutdown() {
    return transport.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return transport.isTerminated();
  }

  @Override
  public ManagedChannel shutdownNow() {
    transport.shutdownNow();
    return this;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    return transport.awaitTermination(timeout, unit);
  }

  @Override
  public ConnectivityState getState(boolean requestConnection) {
    return transport.getState(requestConnection);
  }

  @Override
  public void notifyWhenStateChanged(ConnectivityState source, Runnable callback) {
    transport.notifyWhenStateChanged(source, callback);
  }

  @Override
  public String toString() {
    return "BridgeChannel{target=" + transport.target() + "}";
  }

  /** A call refused before it starts: its listener hears the status and nothing else. */
  private static final class FailingCall<ReqT, RespT> extends ClientCall<ReqT, RespT> {
    private final Status status;

    FailingCall(Status status) {
      this.status = status;
    }

    @Override
    public void start(Listener<RespT> listener, Metadata headers) {
      listener.onClose(status, new Metadata());
    }

    @Override
    public void request(int numMessages) {}

    @Override
    public void cancel(String message, Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(ReqT message) {}
  }
}
