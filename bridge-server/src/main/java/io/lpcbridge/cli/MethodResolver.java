package io.lpcbridge.cli;

import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthProto;
import io.grpc.reflection.v1.ServerReflectionProto;
import io.lpcbridge.demo.v1.EchoProto;
import io.lpcbridge.kv.v1.KeyValueProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Finds the protobuf descriptor of {@code SERVICE/METHOD}: first among the services compiled into
 * this program, then through the server's reflection service. A service may be named in full
 * ({@code bridge.kv.v1.KeyValue}) or by any unambiguous dotted suffix ({@code KeyValue}, {@code
 * kv.v1.KeyValue}).
 */
final class MethodResolver {
  /** The method and where its descriptor came from ({@code built in} or {@code reflection}). */
  record Resolved(MethodDescriptor method, String source) {}

  /** The files compiled in, with everything they import, by file name. */
  static final Map<String, FileDescriptor> BUILT_IN_FILES = builtInFiles();

  private final Channel channel;
  private final String target;
  private final Duration timeout;
  private final boolean reflectionOnly;

  /**
   * @param reflectionOnly skip the compiled-in descriptors and ask the server
   */
  MethodResolver(Channel channel, String target, Duration timeout, boolean reflectionOnly) {
    this.channel = channel;
    this.target = target;
    this.timeout = timeout;
    this.reflectionOnly = reflectionOnly;
  }

  private static Map<String, FileDescriptor> builtInFiles() {
    Map<String, FileDescriptor> files = new LinkedHashMap<>();
    for (FileDescriptor f :
        List.of(EchoProto.getDescriptor(), KeyValueProto.getDescriptor(), HealthProto.getDescriptor(), ServerReflectionProto.getDescriptor())) {
      addWithDependencies(f, files);
    }
    return files;
  }

  private static void addWithDependencies(FileDescriptor f, Map<String, FileDescriptor> files) {
    if (files.putIfAbsent(f.getName(), f) == null) {
      f.getDependencies().forEach(d -> addWithDependencies(d, files));
    }
  }

  static List<ServiceDescriptor> builtInServices() {
    List<ServiceDescriptor> out = new ArrayList<>();
    for (FileDescriptor f : BUILT_IN_FILES.values()) {
      out.addAll(f.getServices());
    }
    return out;
  }

  /**
   * @throws CliException (usage) for a malformed name, an unknown or ambiguous service or method
   * @throws CliException (failure) when the server's reflection cannot be reached
   */
  Resolved resolve(String spec) {
    String s = spec.startsWith("/") ? spec.substring(1) : spec;
    int slash = s.lastIndexOf('/');
    if (slash <= 0 || slash == s.length() - 1) {
      throw CliException.usage(
          "'" + spec + "' is not SERVICE/METHOD: write e.g. bridge.kv.v1.KeyValue/Put or KeyValue/Put");
    }
    String service = s.substring(0, slash);
    String method = s.substring(slash + 1);
    if (!reflectionOnly) {
      List<ServiceDescriptor> builtIn = builtInServices();
      List<String> matches = match(service, builtIn.stream().map(ServiceDescriptor::getFullName).toList());
      if (matches.size() == 1) {
        ServiceDescriptor sd = builtIn.stream().filter(d -> d.getFullName().equals(matches.get(0))).findFirst().orElseThrow();
        return new Resolved(method(sd, method), "built in");
      }
      if (matches.size() > 1) {
        throw ambiguous(service, matches);
      }
    }
    return viaReflection(service, method);
  }

  private Resolved viaReflection(String service, String method) {
    ReflectionClient reflection = new ReflectionClient(channel, timeout, BUILT_IN_FILES::get);
    try {
      List<String> offered = reflection.listServices();
      List<String> matches = match(service, offered);
      if (matches.isEmpty()) {
        throw CliException.usage(
            "unknown service '" + service + "': the server at " + target + " offers " + String.join(", ", offered));
      }
      if (matches.size() > 1) {
        throw ambiguous(service, matches);
      }
      String full = matches.get(0);
      FileDescriptor file = reflection.fileContainingSymbol(full);
      ServiceDescriptor sd = file.findServiceByName(full.substring(full.lastIndexOf('.') + 1));
      if (sd == null || !sd.getFullName().equals(full)) {
        throw CliException.failure("the server's reflection answered for service " + full + " with a file that does not declare it");
      }
      return new Resolved(method(sd, method), "reflection");
    } catch (ReflectionClient.QueryFailed e) {
      throw e.code == Status.Code.NOT_FOUND
          ? CliException.usage("service '" + service + "': " + e.getMessage() + " (server reflection at " + target + ")")
          : CliException.failure("server reflection at " + target + " failed: " + e.code + ": " + e.getMessage());
    } catch (StatusRuntimeException e) {
      Status st = e.getStatus();
      if (st.getCode() == Status.Code.UNIMPLEMENTED) {
        throw CliException.usage(
            "unknown service '" + service + "': it is not built in ("
                + builtInServices().stream().map(ServiceDescriptor::getFullName).collect(Collectors.joining(", "))
                + ") and the server at " + target + " offers no reflection (grpc.reflection.v1.ServerReflection)");
      }
      throw CliException.failure(
          "cannot look up service '" + service + "' through server reflection at " + target + ": " + CallCommand.describe(st));
    }
  }

  /** The full names equal to {@code name} or ending in {@code .name}; an exact match wins. */
  static List<String> match(String name, List<String> fullNames) {
    if (fullNames.contains(name)) {
      return List.of(name);
    }
    return fullNames.stream().filter(n -> n.endsWith("." + name)).distinct().sorted().toList();
  }

  private static CliException ambiguous(String service, List<String> matches) {
    return CliException.usage("service name '" + service + "' is ambiguous: it could be " + String.join(" or ", matches) + "; give the full name");
  }

  private static MethodDescriptor method(ServiceDescriptor sd, String name) {
    MethodDescriptor m = sd.findMethodByName(name);
    if (m != null) {
      return m;
    }
    String methods = sd.getMethods().stream().map(MethodDescriptor::getName).collect(Collectors.joining(", "));
    String hint =
        sd.getMethods().stream()
            .filter(x -> x.getName().equalsIgnoreCase(name))
            .findFirst()
            .map(x -> " (did you mean " + x.getName() + "?)")
            .orElse("");
    throw CliException.usage("unknown method '" + name + "' in service " + sd.getFullName() + hint + "; its methods: " + methods);
  }
}
