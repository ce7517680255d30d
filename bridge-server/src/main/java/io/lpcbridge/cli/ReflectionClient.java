package io.lpcbridge.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** Asks a server's {@code grpc.reflection.v1.ServerReflection} service for its services and their descriptors. */
final class ReflectionClient {
  /** The server answered the reflection query with an error, e.g. NOT_FOUND for an unknown symbol. */
  static final class QueryFailed extends Exception {
    private static final long serialVersionUID = 1L;
    final Status.Code code;

    QueryFailed(Status.Code code, String message) {
      super(message, null, false, false);
      this.code = code;
    }
  }

  private final Channel channel;
  private final Duration timeout;
  /** Files the caller already has, used when the server leaves a dependency out. */
  private final Function<String, FileDescriptor> known;

  ReflectionClient(Channel channel, Duration timeout, Function<String, FileDescriptor> known) {
    this.channel = channel;
    this.timeout = timeout;
    this.known = known;
  }

  /**
   * @throws StatusRuntimeException when the reflection call fails (UNIMPLEMENTED: the server has no
   *     reflection; UNAVAILABLE: unreachable)
   */
  List<String> listServices() throws QueryFailed {
    ServerReflectionResponse r = ask(ServerReflectionRequest.newBuilder().setListServices("*").build());
    List<String> names = new ArrayList<>();
    for (ServiceResponse s : r.getListServicesResponse().getServiceList()) {
      names.add(s.getName());
    }
    return names;
  }

  /** The file declaring {@code symbol}, built with its dependencies. */
  FileDescriptor fileContainingSymbol(String symbol) throws QueryFailed {
    ServerReflectionResponse r = ask(ServerReflectionRequest.newBuilder().setFileContainingSymbol(symbol).build());
    Map<String, FileDescriptorProto> protos = new HashMap<>();
    String first = addAll(r, protos);
    if (first == null) {
      throw new QueryFailed(Status.Code.INTERNAL, "the server's reflection answered for '" + symbol + "' with no file");
    }
    return build(first, protos, new HashMap<>(), new HashSet<>());
  }

  private String addAll(ServerReflectionResponse r, Map<String, FileDescriptorProto> protos) throws QueryFailed {
    String first = null;
    for (ByteString bytes : r.getFileDescriptorResponse().getFileDescriptorProtoList()) {
      try {
        FileDescriptorProto p = FileDescriptorProto.parseFrom(bytes);
        protos.putIfAbsent(p.getName(), p);
        if (first == null) {
          first = p.getName();
        }
      } catch (InvalidProtocolBufferException e) {
        throw new QueryFailed(Status.Code.INTERNAL, "the server's reflection sent a malformed file descriptor: " + e.getMessage());
      }
    }
    return first;
  }

  private FileDescriptor build(
      String name, Map<String, FileDescriptorProto> protos, Map<String, FileDescriptor> built, Set<String> inProgress)
      throws QueryFailed {
    FileDescriptor done = built.get(name);
    if (done != null) {
      return done;
    }
    FileDescriptorProto proto = protos.get(name);
    if (proto == null) {
      FileDescriptor local = known.apply(name);
      if (local != null) {
        built.put(name, local);
        return local;
      }
      addAll(ask(ServerReflectionRequest.newBuilder().setFileByFilename(name).build()), protos);
      proto = protos.get(name);
      if (proto == null) {
        throw new QueryFailed(Status.Code.NOT_FOUND, "the server's reflection does not have the file '" + name + "'");
      }
    }
    if (!inProgress.add(name)) {
      throw new QueryFailed(Status.Code.INTERNAL, "the server's proto files import each other in a cycle through '" + name + "'");
    }
    List<FileDescriptor> deps = new ArrayList<>();
    for (String dep : proto.getDependencyList()) {
      deps.add(build(dep, protos, built, inProgress));
    }
    try {
      FileDescriptor f = FileDescriptor.buildFrom(proto, deps.toArray(FileDescriptor[]::new));
      built.put(name, f);
      return f;
    } catch (DescriptorValidationException e) {
      throw new QueryFailed(Status.Code.INTERNAL, "the server's descriptor for '" + name + "' is invalid: " + e.getMessage());
    }
  }

  /** One query on a stream of its own; reflection answers each request with one response. */
  private ServerReflectionResponse ask(ServerReflectionRequest request) throws QueryFailed {
    CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
    StreamObserver<ServerReflectionRequest> requests =
        ServerReflectionGrpc.newStub(channel)
            .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
            .serverReflectionInfo(
                new StreamObserver<>() {
                  @Override
                  public void onNext(ServerReflectionResponse value) {
                    answer.complete(value);
                  }

                  @Override
                  public void onError(Throwable t) {
                    answer.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    answer.completeExceptionally(
                        Status.INTERNAL.withDescription("the reflection stream ended without an answer").asRuntimeException());
                  }
                });
    requests.onNext(request);
    requests.onCompleted();
    ServerReflectionResponse r;
    try {
      r = answer.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : Status.fromThrowable(e.getCause()).asRuntimeException();
    }
    if (r.hasErrorResponse()) {
      throw new QueryFailed(Status.fromCodeValue(r.getErrorResponse().getErrorCode()).getCode(), r.getErrorResponse().getErrorMessage());
    }
    return r;
  }
}
