package io.lpcbridge.cli;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import io.grpc.reflection.v1.ErrorResponse;
import io.grpc.reflection.v1.ExtensionNumberResponse;
import io.grpc.reflection.v1.FileDescriptorResponse;
import io.grpc.reflection.v1.ListServiceResponse;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * gRPC server reflection ({@code grpc.reflection.v1.ServerReflection}) over a fixed set of
 * services, so that {@code bridge call}, grpcurl or Postman can discover them on every target.
 *
 * <p>grpc-services' {@code ProtoReflectionServiceV1} finds the services to describe through the
 * context key {@code io.grpc.InternalServer.SERVER_CONTEXT_KEY}, which only grpc-java's own server
 * sets; on the bridge's transports it would fail every call. Setting that key from the bridge would
 * take internal gRPC API, which the design rules out, so the few requests are answered here from
 * the services' own descriptors. The set is fixed when the server is built, as the bridge's is.
 */
final class ReflectionService extends ServerReflectionGrpc.ServerReflectionImplBase {
  private final List<String> serviceNames;
  private final Map<String, FileDescriptor> filesByName = new HashMap<>();
  private final Map<String, FileDescriptor> filesBySymbol = new HashMap<>();
  /** Extended message type to extension number to the file declaring the extension. */
  private final Map<String, Map<Integer, FileDescriptor>> extensions = new HashMap<>();

  /** Describes {@code services} and the reflection service itself. */
  ReflectionService(List<ServerServiceDefinition> services) {
    Set<String> names = new TreeSet<>();
    List<ServerServiceDefinition> all = new ArrayList<>(services);
    all.add(bindService());
    for (ServerServiceDefinition def : all) {
      names.add(def.getServiceDescriptor().getName());
      if (def.getServiceDescriptor().getSchemaDescriptor() instanceof ProtoFileDescriptorSupplier s) {
        index(s.getFileDescriptor());
      }
    }
    this.serviceNames = List.copyOf(names);
  }

  private void index(FileDescriptor file) {
    if (filesByName.putIfAbsent(file.getName(), file) != null) {
      return;
    }
    for (ServiceDescriptor s : file.getServices()) {
      filesBySymbol.put(s.getFullName(), file);
      for (MethodDescriptor m : s.getMethods()) {
        filesBySymbol.put(m.getFullName(), file);
      }
    }
    for (Descriptor d : file.getMessageTypes()) {
      indexMessage(file, d);
    }
    for (EnumDescriptor e : file.getEnumTypes()) {
      filesBySymbol.put(e.getFullName(), file);
    }
    for (FieldDescriptor ext : file.getExtensions()) {
      indexExtension(file, ext);
    }
    for (FileDescriptor dep : file.getDependencies()) {
      index(dep);
    }
  }

  private void indexMessage(FileDescriptor file, Descriptor d) {
    filesBySymbol.put(d.getFullName(), file);
    for (Descriptor nested : d.getNestedTypes()) {
      indexMessage(file, nested);
    }
    for (EnumDescriptor e : d.getEnumTypes()) {
      filesBySymbol.put(e.getFullName(), file);
    }
    for (FieldDescriptor ext : d.getExtensions()) {
      indexExtension(file, ext);
    }
  }

  private void indexExtension(FileDescriptor file, FieldDescriptor ext) {
    extensions.computeIfAbsent(ext.getContainingType().getFullName(), k -> new HashMap<>()).put(ext.getNumber(), file);
  }

  @Override
  public StreamObserver<ServerReflectionRequest> serverReflectionInfo(StreamObserver<ServerReflectionResponse> out) {
    return new StreamObserver<>() {
      @Override
      public void onNext(ServerReflectionRequest request) {
        out.onNext(answer(request));
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        out.onCompleted();
      }
    };
  }

  private ServerReflectionResponse answer(ServerReflectionRequest request) {
    ServerReflectionResponse.Builder r =
        ServerReflectionResponse.newBuilder().setValidHost(request.getHost()).setOriginalRequest(request);
    switch (request.getMessageRequestCase()) {
      case LIST_SERVICES -> {
        ListServiceResponse.Builder list = ListServiceResponse.newBuilder();
        for (String name : serviceNames) {
          list.addService(ServiceResponse.newBuilder().setName(name));
        }
        r.setListServicesResponse(list);
      }
      case FILE_BY_FILENAME -> {
        FileDescriptor f = filesByName.get(request.getFileByFilename());
        return f != null ? r.setFileDescriptorResponse(withDependencies(f)).build()
            : error(r, Status.Code.NOT_FOUND, "no file '" + request.getFileByFilename() + "'");
      }
      case FILE_CONTAINING_SYMBOL -> {
        FileDescriptor f = filesBySymbol.get(request.getFileContainingSymbol());
        return f != null ? r.setFileDescriptorResponse(withDependencies(f)).build()
            : error(r, Status.Code.NOT_FOUND, "no symbol '" + request.getFileContainingSymbol() + "'");
      }
      case FILE_CONTAINING_EXTENSION -> {
        var req = request.getFileContainingExtension();
        FileDescriptor f = extensions.getOrDefault(req.getContainingType(), Map.of()).get(req.getExtensionNumber());
        return f != null ? r.setFileDescriptorResponse(withDependencies(f)).build()
            : error(r, Status.Code.NOT_FOUND, "no extension " + req.getExtensionNumber() + " of '" + req.getContainingType() + "'");
      }
      case ALL_EXTENSION_NUMBERS_OF_TYPE -> {
        String type = request.getAllExtensionNumbersOfType();
        if (!filesBySymbol.containsKey(type)) {
          return error(r, Status.Code.NOT_FOUND, "no type '" + type + "'");
        }
        r.setAllExtensionNumbersResponse(
            ExtensionNumberResponse.newBuilder()
                .setBaseTypeName(type)
                .addAllExtensionNumber(new TreeSet<>(extensions.getOrDefault(type, Map.of()).keySet())));
      }
      default -> {
        return error(r, Status.Code.INVALID_ARGUMENT, "the request names no query");
      }
    }
    return r.build();
  }

  private static ServerReflectionResponse error(ServerReflectionResponse.Builder r, Status.Code code, String message) {
    return r.setErrorResponse(ErrorResponse.newBuilder().setErrorCode(code.value()).setErrorMessage(message)).build();
  }

  /** The file first, then every file it imports, directly or not, each once. */
  private static FileDescriptorResponse withDependencies(FileDescriptor file) {
    FileDescriptorResponse.Builder b = FileDescriptorResponse.newBuilder();
    Set<String> seen = new LinkedHashSet<>();
    Deque<FileDescriptor> todo = new ArrayDeque<>();
    todo.add(file);
    while (!todo.isEmpty()) {
      FileDescriptor f = todo.removeFirst();
      if (seen.add(f.getName())) {
        b.addFileDescriptorProto(f.toProto().toByteString());
        todo.addAll(f.getDependencies());
      }
    }
    return b.build();
  }
}
