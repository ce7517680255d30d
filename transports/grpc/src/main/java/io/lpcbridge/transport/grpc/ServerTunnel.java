package io.lpcbridge.transport.grpc;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;
import io.lpcbridge.transport.Capability;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.Set;

/**
 * The accepting end of a tunnel: one server call of {@code Tunnel/Open}. The client's half-close
 * is its orderly close; this side then flushes and closes the call with OK. Closing from this side
 * closes the call with OK after the queued messages, which ends the client's direction too: gRPC
 * has no half-close for the server.
 */
final class ServerTunnel extends TunnelConnection {
  private final ServerCall<byte[], byte[]> call;
  /** Guarded by {@code this}: a server call may be closed once, in order or not. */
  private boolean closeCalled;

  ServerTunnel(ServerCall<byte[], byte[]> call, int maxMessageSize, Set<Capability> capabilities) {
    super(maxMessageSize, capabilities);
    this.call = call;
  }

  /** Sends the response headers, which is what completes the client's connect. */
  synchronized void accept() {
    call.sendHeaders(new Metadata());
  }

  /** Turns the call away before it became a connection (the listener is closed). */
  synchronized void refuse(String why) {
    closeCall(Status.UNAVAILABLE.withDescription(why));
  }

  /** Under {@code this}. */
  private void closeCall(Status status) {
    if (!closeCalled) {
      closeCalled = true;
      call.close(status, new Metadata());
    }
  }

  ServerCall.Listener<byte[]> events() {
    return new ServerCall.Listener<>() {
      @Override
      public void onMessage(byte[] message) {
        deliver(message);
      }

      @Override
      public void onHalfClose() {
        peerFinished();
      }

      @Override
      public void onReady() {
        ready();
      }

      @Override
      public void onComplete() {
        terminated(null);
      }

      @Override
      public void onCancel() {
        terminated(new IOException(
            "grpc: the tunnel call from " + remoteAddress() + " was cancelled: the client went away or reset the stream"));
      }
    };
  }

  @Override
  void callSend(byte[] message) {
    call.sendMessage(message);
  }

  @Override
  void callRequest(int n) {
    call.request(n);
  }

  @Override
  boolean callIsReady() {
    return call.isReady();
  }

  @Override
  void callFinish() {
    closeCall(Status.OK);
  }

  @Override
  void callAbort(String why, Throwable cause) {
    // After an orderly close the call can no longer be failed; it ends on its own.
    closeCall(Status.INTERNAL.withDescription(why).withCause(cause));
  }

  @Override
  public String localAddress() {
    return address(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
  }

  @Override
  public String remoteAddress() {
    return address(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
  }

  // The address attributes are experimental gRPC API; they serve only logs and messages here.
  private String address(Attributes.Key<SocketAddress> key) {
    SocketAddress a = call.getAttributes().get(key);
    return a == null ? "unknown" : a.toString();
  }
}
