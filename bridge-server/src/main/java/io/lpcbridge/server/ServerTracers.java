package io.lpcbridge.server;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A call's {@link ServerStreamTracer}s (from {@code ServerBuilder.addStreamTracerFactory}, as
 * census and OpenTelemetry install them), told of its events as grpc-java's server tells them. A
 * server without factories gives every call {@link #NONE}, which costs nothing.
 */
class ServerTracers {
  static final ServerTracers NONE = new ServerTracers();

  private ServerTracers() {}

  static ServerTracers create(List<ServerStreamTracer.Factory> factories, String fullMethodName, Metadata headers) {
    if (factories.isEmpty()) {
      return NONE;
    }
    ServerStreamTracer[] tracers = new ServerStreamTracer[factories.size()];
    for (int i = 0; i < tracers.length; i++) {
      tracers[i] = factories.get(i).newServerStreamTracer(fullMethodName, headers);
    }
    return new Active(tracers);
  }

  Context filterContext(Context context) {
    return context;
  }

  void callStarted(MethodDescriptor<?, ?> method, Attributes attributes, String authority) {}

  void inboundMessage(int seq, int size) {}

  void outboundMessage(int seq, int size) {}

  /** Called once, whichever way the call ends. */
  void closed(Status status) {}

  private static final class Active extends ServerTracers {
    private final ServerStreamTracer[] tracers;
    private final AtomicBoolean closed = new AtomicBoolean();

    Active(ServerStreamTracer[] tracers) {
      this.tracers = tracers;
    }

    @Override
    Context filterContext(Context context) {
      for (ServerStreamTracer t : tracers) {
        context = t.filterContext(context);
      }
      return context;
    }

    @Override
    void callStarted(MethodDescriptor<?, ?> method, Attributes attributes, String authority) {
      ServerStreamTracer.ServerCallInfo<?, ?> info = new CallInfo<>(method, attributes, authority);
      for (ServerStreamTracer t : tracers) {
        t.serverCallStarted(info);
      }
    }

    @Override
    void inboundMessage(int seq, int size) {
      for (ServerStreamTracer t : tracers) {
        t.inboundMessage(seq);
        t.inboundWireSize(size);
        t.inboundUncompressedSize(size);
        t.inboundMessageRead(seq, size, size);
      }
    }

    @Override
    void outboundMessage(int seq, int size) {
      for (ServerStreamTracer t : tracers) {
        t.outboundMessage(seq);
        t.outboundWireSize(size);
        t.outboundUncompressedSize(size);
        t.outboundMessageSent(seq, size, size);
      }
    }

    @Override
    void closed(Status status) {
      if (closed.compareAndSet(false, true)) {
        for (ServerStreamTracer t : tracers) {
          t.streamClosed(status);
        }
      }
    }
  }

  private static final class CallInfo<ReqT, RespT> extends ServerStreamTracer.ServerCallInfo<ReqT, RespT> {
    private final MethodDescriptor<ReqT, RespT> method;
    private final Attributes attributes;
    private final String authority;

    CallInfo(MethodDescriptor<ReqT, RespT> method, Attributes attributes, String authority) {
      this.method = method;
      this.attributes = attributes;
      this.authority = authority;
    }

    @Override
    public MethodDescriptor<ReqT, RespT> getMethodDescriptor() {
      return method;
    }

    @Override
    public Attributes getAttributes() {
      return attributes;
    }

    @Override
    public String getAuthority() {
      return authority;
    }
  }
}
