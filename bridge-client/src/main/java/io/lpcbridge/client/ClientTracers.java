package io.lpcbridge.client;

import io.grpc.Attributes;
import io.grpc.CallOptions;
import io.grpc.ClientStreamTracer;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.List;

/**
 * The call's {@link ClientStreamTracer}s (from {@code CallOptions.getStreamTracerFactories()}, as
 * census and OpenTelemetry install them), told of the stream's events as grpc-java's transports
 * tell them. A call without factories gets {@link #NONE} and pays nothing.
 */
class ClientTracers {
  static final ClientTracers NONE = new ClientTracers();

  private ClientTracers() {}

  static ClientTracers create(CallOptions options, Metadata headers) {
    List<ClientStreamTracer.Factory> factories = options.getStreamTracerFactories();
    if (factories.isEmpty()) {
      return NONE;
    }
    ClientStreamTracer.StreamInfo info =
        ClientStreamTracer.StreamInfo.newBuilder().setCallOptions(options).setPreviousAttempts(0).setIsTransparentRetry(false).build();
    ClientStreamTracer[] tracers = new ClientStreamTracer[factories.size()];
    for (int i = 0; i < tracers.length; i++) {
      tracers[i] = factories.get(i).newClientStreamTracer(info, headers);
    }
    return new Active(tracers);
  }

  void streamStarted(Attributes transportAttributes, Metadata headers) {}

  void outboundMessage(int seq, int size) {}

  void inboundHeaders(Metadata headers) {}

  void inboundMessage(int seq, int size) {}

  void closed(Status status, Metadata trailers) {}

  private static final class Active extends ClientTracers {
    private final ClientStreamTracer[] tracers;

    Active(ClientStreamTracer[] tracers) {
      this.tracers = tracers;
    }

    @Override
    void streamStarted(Attributes transportAttributes, Metadata headers) {
      for (ClientStreamTracer t : tracers) {
        t.streamCreated(transportAttributes, headers);
        t.outboundHeaders();
      }
    }

    @Override
    void outboundMessage(int seq, int size) {
      for (ClientStreamTracer t : tracers) {
        t.outboundMessage(seq);
        t.outboundWireSize(size);
        t.outboundUncompressedSize(size);
        t.outboundMessageSent(seq, size, size);
      }
    }

    @Override
    void inboundHeaders(Metadata headers) {
      for (ClientStreamTracer t : tracers) {
        // Its default forwards to inboundHeaders(): one call, as grpc-java makes.
        t.inboundHeaders(headers);
      }
    }

    @Override
    void inboundMessage(int seq, int size) {
      for (ClientStreamTracer t : tracers) {
        t.inboundMessage(seq);
        t.inboundWireSize(size);
        t.inboundUncompressedSize(size);
        t.inboundMessageRead(seq, size, size);
      }
    }

    @Override
    void closed(Status status, Metadata trailers) {
      for (ClientStreamTracer t : tracers) {
        if (trailers != null) {
          t.inboundTrailers(trailers);
        }
        t.streamClosed(status);
      }
    }
  }
}
