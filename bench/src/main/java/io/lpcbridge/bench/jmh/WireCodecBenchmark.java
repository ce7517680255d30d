package io.lpcbridge.bench.jmh;

import io.grpc.Metadata;
import io.grpc.Status;
import io.lpcbridge.core.ByteBufferInputStream;
import io.lpcbridge.core.CallStart;
import io.lpcbridge.core.SessionListener;
import io.lpcbridge.core.SessionOptions;
import io.lpcbridge.core.SharedResources;
import io.lpcbridge.core.StreamListener;
import io.lpcbridge.core.WireSession;
import io.lpcbridge.core.WireStream;
import java.nio.ByteBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The wire codec and session logic of bridge-core, through its public API ({@link WireSession},
 * {@link WireStream}), over {@link InMemoryConnections}: one unary call's frames encoded by the
 * client, decoded and answered by the server, the answer decoded by the client, all on one thread.
 * What a call costs in the protocol alone, without a transport, a thread hop or protobuf.
 */
public class WireCodecBenchmark extends NanosPerCall {
  private static final String METHOD = "bridge.demo.v1.Echo/Say";

  @Param({"64", "1024", "65536"})
  int size;

  private InMemoryConnections pair;
  private WireSession client;
  private WireSession server;
  private ByteBuffer payload;
  private final Metadata empty = new Metadata();

  /** The client's view of the call in progress. */
  private final class Call implements StreamListener {
    int bytes = -1;
    Status status;

    @Override
    public void onMessage(ByteBuffer message) {
      bytes = message.remaining();
    }

    @Override
    public void onTrailers(Status status, Metadata trailers) {
      this.status = status;
    }

    @Override
    public void onReset(Status status) {
      this.status = status;
    }
  }

  @Setup
  public void setUp() {
    pair = new InMemoryConnections();
    payload = ByteBuffer.allocate(size);
    server = WireSession.server(pair.server, SessionOptions.defaults(), new SessionListener() {
      @Override
      public StreamListener onCallStart(WireStream stream, CallStart start) {
        stream.request(1);
        return new StreamListener() {
          @Override
          public void onMessage(ByteBuffer message) {
            // An echo: answer with as many bytes as arrived, once the request is complete.
            try {
              stream.sendHeaders(empty);
              stream.sendMessage(new ByteBufferInputStream(payload.duplicate().limit(message.remaining())), false);
              stream.sendTrailers(Status.OK, empty);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }

          @Override
          public void onReset(Status status) {}
        };
      }

      @Override
      public void onClosed(WireSession session, Status status) {}
    }, SharedResources.timer());
    client = WireSession.client(pair.client, SessionOptions.defaults(), (session, status) -> {}, SharedResources.timer());
    server.start();
    client.start();
    pair.pump();
  }

  @Benchmark
  public int unaryCall() throws Exception {
    Call call = new Call();
    WireStream stream = client.newStream(new CallStart(METHOD, CallStart.NO_TIMEOUT, empty, "bench"), call);
    stream.request(1);
    stream.sendMessage(new ByteBufferInputStream(payload.duplicate()), false);
    stream.halfClose();
    pair.pump();
    if (call.status == null || !call.status.isOk() || call.bytes != size) {
      throw new IllegalStateException("the call ended with " + call.status + " and " + call.bytes + " bytes");
    }
    return call.bytes;
  }

  @TearDown
  public void tearDown() {
    client.shutdownNow(Status.UNAVAILABLE);
    server.shutdownNow(Status.UNAVAILABLE);
  }
}
