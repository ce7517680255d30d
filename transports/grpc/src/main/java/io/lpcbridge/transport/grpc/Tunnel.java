package io.lpcbridge.transport.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The gRPC method a tunnel connection is: {@code lpcbridge.tunnel.Tunnel/Open}, one bidirectional
 * stream per connection, each gRPC message one transport message, carried as raw bytes (no
 * protobuf).
 */
final class Tunnel {
  static final String SERVICE = "lpcbridge.tunnel.Tunnel";

  static final MethodDescriptor<byte[], byte[]> OPEN =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Open"))
          .setRequestMarshaller(RawMarshaller.INSTANCE)
          .setResponseMarshaller(RawMarshaller.INSTANCE)
          .build();

  private Tunnel() {}

  static ServerServiceDefinition service(ServerCallHandler<byte[], byte[]> handler) {
    return ServerServiceDefinition.builder(SERVICE).addMethod(OPEN, handler).build();
  }

  /** Bytes as they are: the message is the gRPC payload. */
  private enum RawMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    INSTANCE;

    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try (stream) {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
