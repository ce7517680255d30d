package io.lpcbridge.cli;

import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.client.BridgeChannelBuilder;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(
    name = "call",
    mixinStandardHelpOptions = true,
    versionProvider = BridgeCli.Version.class,
    sortOptions = false,
    description = {
      "Calls one method on any target (tcp, unix, grpc, grpc+unix...) with JSON requests and prints each response as"
          + " one line of JSON.",
      "",
      "The method's types come from the services built into this program (Echo, KeyValue, Health, reflection), else"
          + " from the server's reflection service. Each JSON argument is one request message; with none, a unary or"
          + " server-streaming method gets one {}.",
      "",
      "Examples:",
      "  bridge call tcp://127.0.0.1:7000 KeyValue/Put '{\"key\":\"a\",\"value\":\"aGk=\"}'",
      "  bridge call unix:///tmp/bridge-$USER/bridge.sock bridge.kv.v1.KeyValue/Scan",
      "  bridge call grpc://127.0.0.1:7001 Echo/Collect '{\"payload\":\"AA==\"}' '{\"payload\":\"AQ==\"}'",
      "",
      "Exit status: 0 OK; 1 the call ended with a non-OK status (printed as 'ERROR <CODE>: <description>' on stderr)"
          + " or the server could not be reached; 2 a malformed target, header or JSON, or an unknown service or method."
    })
final class CallCommand implements Callable<Integer> {
  /** How long reflection may take when no --deadline is given. */
  static final Duration REFLECTION_TIMEOUT = Duration.ofSeconds(10);

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "TARGET", description = "Where to call, e.g. tcp://127.0.0.1:7000, unix:///path, grpc://host:port.")
  String target;

  @Parameters(index = "1", paramLabel = "SERVICE/METHOD", description = "e.g. bridge.kv.v1.KeyValue/Put, or an unambiguous short form: KeyValue/Put.")
  String method;

  @Parameters(index = "2..*", paramLabel = "JSON", description = "Request messages in protobuf JSON, one per argument.")
  List<String> json = new ArrayList<>();

  @Option(names = "--deadline", paramLabel = "DURATION", converter = DurationConverter.class, description = "Deadline of the call, e.g. 500ms, 5s (default: none).")
  Duration deadline;

  @Option(names = {"-H", "--header"}, paramLabel = "KEY=VALUE", description = "Request metadata; repeatable. A key ending in -bin takes base64.")
  List<String> headers = new ArrayList<>();

  @Option(names = "--reflection", description = "Look the method up through the server's reflection even when it is built in.")
  boolean reflectionOnly;

  @Option(names = "--emit-defaults", description = "Print fields that hold their default value (0, \"\", false) too.")
  boolean emitDefaults;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Metadata metadata = parseHeaders(headers);
    ManagedChannel channel;
    try {
      channel = BridgeChannelBuilder.forTarget(target).build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage(e.getMessage());
    }
    try {
      MethodResolver.Resolved resolved =
          new MethodResolver(channel, target, deadline != null ? deadline : REFLECTION_TIMEOUT, reflectionOnly).resolve(method);
      MethodDescriptor md = resolved.method();
      List<DynamicMessage> requests = parseRequests(md);
      Channel ch = ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(metadata));
      JsonFormat.Printer printer =
          JsonFormat.printer()
              .usingTypeRegistry(JsonFormat.TypeRegistry.newBuilder().add(md.getOutputType()).build())
              .omittingInsignificantWhitespace();
      if (emitDefaults) {
        printer = printer.alwaysPrintFieldsWithNoPresence();
      }
      ResponsePrinter responses = new ResponsePrinter(out, err, printer);
      try {
        invoke(ch, md, requests, responses);
      } catch (StatusRuntimeException e) {
        out.flush();
        err.println("ERROR " + describe(e.getStatus()));
        err.flush();
        return CliException.FAILURE;
      }
      return responses.failed() ? CliException.FAILURE : 0;
    } finally {
      channel.shutdownNow();
      try {
        channel.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** {@code CODE: description}, falling back on the cause's message when there is no description. */
  static String describe(Status status) {
    String text = status.getDescription();
    if (text == null && status.getCause() != null) {
      text = status.getCause().getMessage() != null ? status.getCause().getMessage() : status.getCause().toString();
    }
    return status.getCode() + ": " + (text == null ? "(no description)" : text);
  }

  static Metadata parseHeaders(List<String> headers) {
    Metadata md = new Metadata();
    for (String h : headers) {
      int eq = h.indexOf('=');
      if (eq <= 0) {
        throw CliException.usage("header '" + h + "' is not KEY=VALUE");
      }
      String key = h.substring(0, eq).trim().toLowerCase(java.util.Locale.ROOT);
      String value = h.substring(eq + 1);
      try {
        if (key.endsWith(Metadata.BINARY_HEADER_SUFFIX)) {
          md.put(Metadata.Key.of(key, Metadata.BINARY_BYTE_MARSHALLER), Base64.getDecoder().decode(value));
        } else {
          md.put(Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER), value);
        }
      } catch (IllegalArgumentException e) {
        throw CliException.usage("header '" + h + "': " + e.getMessage());
      }
    }
    return md;
  }

  private List<DynamicMessage> parseRequests(MethodDescriptor md) {
    JsonFormat.TypeRegistry types = JsonFormat.TypeRegistry.newBuilder().add(md.getInputType()).build();
    JsonFormat.Parser parser = JsonFormat.parser().usingTypeRegistry(types);
    List<DynamicMessage> requests = new ArrayList<>();
    for (int i = 0; i < json.size(); i++) {
      DynamicMessage.Builder b = DynamicMessage.newBuilder(md.getInputType());
      try {
        parser.merge(json.get(i), b);
      } catch (InvalidProtocolBufferException | RuntimeException e) {
        throw CliException.usage(
            "JSON argument " + (i + 1) + " is not a valid " + md.getInputType().getFullName() + ": " + e.getMessage());
      }
      requests.add(b.build());
    }
    boolean clientStreams = md.isClientStreaming();
    if (!clientStreams && requests.size() > 1) {
      throw CliException.usage(
          md.getService().getFullName() + "/" + md.getName() + " takes one request, not " + requests.size()
              + " (only client-streaming and bidi methods take several)");
    }
    if (!clientStreams && requests.isEmpty()) {
      requests.add(DynamicMessage.getDefaultInstance(md.getInputType()));
    }
    return requests;
  }

  private CallOptions callOptions() {
    return deadline == null ? CallOptions.DEFAULT : CallOptions.DEFAULT.withDeadlineAfter(deadline.toNanos(), TimeUnit.NANOSECONDS);
  }

  private void invoke(Channel ch, MethodDescriptor md, List<DynamicMessage> requests, ResponsePrinter responses) {
    io.grpc.MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod =
        io.grpc.MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
            .setType(methodType(md))
            .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(md.getService().getFullName(), md.getName()))
            .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(md.getInputType())))
            .setResponseMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(md.getOutputType())))
            .build();
    switch (grpcMethod.getType()) {
      case UNARY -> responses.print(ClientCalls.blockingUnaryCall(ch, grpcMethod, callOptions(), requests.get(0)));
      case SERVER_STREAMING -> {
        Iterator<DynamicMessage> it = ClientCalls.blockingServerStreamingCall(ch, grpcMethod, callOptions(), requests.get(0));
        while (it.hasNext()) {
          responses.print(it.next());
        }
      }
      default -> {
        CompletableFuture<Void> done = new CompletableFuture<>();
        StreamObserver<DynamicMessage> in =
            new StreamObserver<>() {
              @Override
              public void onNext(DynamicMessage value) {
                responses.print(value);
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(null);
              }
            };
        var call = ch.newCall(grpcMethod, callOptions());
        StreamObserver<DynamicMessage> send =
            grpcMethod.getType() == io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING
                ? ClientCalls.asyncClientStreamingCall(call, in)
                : ClientCalls.asyncBidiStreamingCall(call, in);
        for (DynamicMessage r : requests) {
          send.onNext(r);
        }
        send.onCompleted();
        try {
          done.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          call.cancel("interrupted", e);
          throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        } catch (ExecutionException e) {
          throw Status.fromThrowable(e.getCause()).asRuntimeException();
        }
      }
    }
  }

  private static io.grpc.MethodDescriptor.MethodType methodType(MethodDescriptor md) {
    if (md.isClientStreaming()) {
      return md.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.BIDI_STREAMING : io.grpc.MethodDescriptor.MethodType.CLIENT_STREAMING;
    }
    return md.isServerStreaming() ? io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING : io.grpc.MethodDescriptor.MethodType.UNARY;
  }

  /** Prints each response as one line of JSON as soon as it arrives; callbacks may come from any thread. */
  private static final class ResponsePrinter {
    private final PrintWriter out;
    private final PrintWriter err;
    private final JsonFormat.Printer printer;
    private boolean failed;

    ResponsePrinter(PrintWriter out, PrintWriter err, JsonFormat.Printer printer) {
      this.out = out;
      this.err = err;
      this.printer = printer;
    }

    synchronized void print(DynamicMessage m) {
      try {
        out.println(printer.print(m));
        out.flush();
      } catch (InvalidProtocolBufferException e) {
        failed = true;
        err.println("cannot print a " + m.getDescriptorForType().getFullName() + " response as JSON: " + e.getMessage());
        err.flush();
      }
    }

    synchronized boolean failed() {
      return failed;
    }
  }
}
