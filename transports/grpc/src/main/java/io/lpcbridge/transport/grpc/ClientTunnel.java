package io.lpcbridge.transport.grpc;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The dialling end of a tunnel: its own {@link ManagedChannel} (one HTTP/2 connection) carrying
 * one {@code Tunnel/Open} call. Connected once the server's response headers arrive, which the
 * server sends as soon as the call reaches it. Closing half-closes the call and waits, for at most
 * the linger time, for the server to finish its side; then the call is cancelled.
 */
final class ClientTunnel extends TunnelConnection {
  private final Target target;
  private final ManagedChannel channel;
  private final ClientCall<byte[], byte[]> call;
  private final Duration linger;
  private final CountDownLatch established = new CountDownLatch(1);
  /** Set when the call ended before its headers came: the connect failed. */
  private volatile Status failedToConnect;
  private volatile ScheduledFuture<?> lingerTimer;

  private ClientTunnel(Target target, ManagedChannel channel, Duration linger, int maxMessageSize, Set<Capability> capabilities) {
    super(maxMessageSize, capabilities);
    this.target = target;
    this.channel = channel;
    this.linger = linger;
    this.call = channel.newCall(Tunnel.OPEN, CallOptions.DEFAULT);
  }

  static ClientTunnel connect(Target target, TransportOptions options, Set<Capability> capabilities) throws IOException {
    ManagedChannel channel = GrpcTargets.channelBuilder(target, options).build();
    ClientTunnel t = new ClientTunnel(target, channel, options.linger(), options.maxMessageSize(), capabilities);
    Duration timeout = options.connectTimeout();
    boolean done;
    try {
      synchronized (t) {
        t.call.start(t.new Events(), new Metadata());
      }
      // The socket connect is bounded by connectTimeout itself; the extra second covers the
      // HTTP/2 handshake and the server's headers.
      done = t.established.await(timeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      channel.shutdownNow();
      throw new IOException("grpc: interrupted while connecting to " + target, e);
    } catch (RuntimeException e) {
      channel.shutdownNow();
      throw e;
    }
    if (!done) {
      t.abort("connectTimeout expired", null);
      channel.shutdownNow();
      throw new SocketTimeoutException(
          "grpc: cannot connect to " + target + " within connectTimeout " + timeout
              + " (set the transport option connectTimeout to wait longer)");
    }
    Status failed = t.failedToConnect;
    if (failed != null) {
      channel.shutdownNow();
      IOException e = failed.getCode() == Status.Code.UNAVAILABLE
          ? new ConnectException("grpc: cannot connect to " + target + ": " + describe(failed))
          : new IOException("grpc: cannot open a tunnel to " + target + ": " + describe(failed));
      e.initCause(failed.asException());
      throw e;
    }
    return t;
  }

  private static String describe(Status s) {
    StringBuilder b = new StringBuilder(s.getCode().toString());
    if (s.getDescription() != null) {
      b.append(": ").append(s.getDescription());
    }
    if (s.getCause() != null && s.getCause().getMessage() != null) {
      b.append(" (").append(s.getCause().getMessage()).append(')');
    }
    return b.toString();
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
    call.halfClose();
  }

  @Override
  void callAbort(String why, Throwable cause) {
    call.cancel(why, cause);
  }

  @Override
  void onCloseRequested() {
    lingerTimer =
        Timer.INSTANCE.schedule(
            () -> abort("linger " + linger + " expired",
                new IOException("grpc: the server end of " + target + " did not finish within linger " + linger
                    + "; call cancelled (raise the transport option linger to wait longer)")),
            linger.toNanos(),
            TimeUnit.NANOSECONDS);
  }

  @Override
  void onTerminated() {
    ScheduledFuture<?> timer = lingerTimer;
    if (timer != null) {
      timer.cancel(false);
    }
    channel.shutdown();
  }

  @Override
  public String localAddress() {
    SocketAddress a = call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
    return a == null ? "grpc client" : a.toString();
  }

  @Override
  public String remoteAddress() {
    return target.toString();
  }

  /** gRPC's callbacks for the call, on its serializing executor. */
  private final class Events extends ClientCall.Listener<byte[]> {
    @Override
    public void onHeaders(Metadata headers) {
      established.countDown();
    }

    @Override
    public void onMessage(byte[] message) {
      deliver(message);
    }

    @Override
    public void onReady() {
      ready();
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      if (established.getCount() != 0) {
        failedToConnect = status.isOk() ? Status.UNAVAILABLE.withDescription("server ended the call at once") : status;
        established.countDown();
      }
      terminated(status.isOk() ? null : status.asException(trailers));
    }
  }

  /** One daemon thread for linger timers. */
  private static final class Timer {
    static final ScheduledExecutorService INSTANCE =
        Executors.newSingleThreadScheduledExecutor(
            r -> Thread.ofPlatform().daemon().name("lpcbridge-grpc-linger").unstarted(r));
  }
}
