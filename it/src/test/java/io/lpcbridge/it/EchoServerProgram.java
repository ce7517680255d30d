package io.lpcbridge.it;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.lpcbridge.demo.EchoService;
import io.lpcbridge.demo.KeyValueService;
import io.lpcbridge.server.BridgeServer;
import io.lpcbridge.server.BridgeServerBuilder;
import io.lpcbridge.transport.Target;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server of the cross-host tests, a process of its own on host b: Echo and KeyValue on every
 * target given as an argument.
 *
 * <p>Prints {@code listening on TARGET} per target (ports resolved), then {@code ready}. Reads
 * commands on stdin: {@code stats} prints one {@link Stats} line; {@code quit} or end of input
 * stops the server, prints a last {@code STATS} line and exits 0. A {@code STATS} line counts the
 * Echo handler executions ({@link EchoService#executions()}, the exactly-once check), the calls
 * per transport and the peer addresses per transport (the cross-host check).
 */
public final class EchoServerProgram {
  private EchoServerProgram() {}

  /** A parsed {@code STATS} line. */
  record Stats(long executions, Map<String, Long> calls, Map<String, Set<String>> peers) {
    private static final Pattern LINE = Pattern.compile("^STATS executions=(\\d+) calls=(\\S*) peers=(\\S*)$");

    static Stats parse(String line) {
      Matcher m = LINE.matcher(line);
      if (!m.matches()) {
        throw new IllegalArgumentException("not a STATS line: " + line);
      }
      Map<String, Long> calls = new TreeMap<>();
      for (String kv : m.group(2).split(",")) {
        if (!kv.isEmpty()) {
          calls.put(kv.substring(0, kv.indexOf(':')), Long.parseLong(kv.substring(kv.indexOf(':') + 1)));
        }
      }
      Map<String, Set<String>> peers = new TreeMap<>();
      for (String kv : m.group(3).split(",")) {
        if (!kv.isEmpty()) {
          peers.computeIfAbsent(kv.substring(0, kv.indexOf(':')), k -> new TreeSet<>()).add(kv.substring(kv.indexOf(':') + 1));
        }
      }
      return new Stats(Long.parseLong(m.group(1)), calls, peers);
    }

    long calls(String transport) {
      return calls.getOrDefault(transport, 0L);
    }

    Set<String> peers(String transport) {
      return peers.getOrDefault(transport, Set.of());
    }
  }

  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: EchoServerProgram TARGET[?option=value&...]...   (e.g. tcp://10.77.0.2:0 udp://10.77.0.2:0?io=jdk)");
      System.exit(2);
    }
    EchoService echo = new EchoService();
    Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
    Set<String> peers = new ConcurrentSkipListSet<>();
    ServerInterceptor record =
        new ServerInterceptor() {
          @Override
          public <ReqT, RespT> ServerCall.Listener<ReqT> interceptCall(
              ServerCall<ReqT, RespT> call, Metadata headers, ServerCallHandler<ReqT, RespT> next) {
            String transport = call.getAttributes().get(BridgeServer.TRANSPORT);
            transport = transport == null ? "grpc" : transport; // stock grpc-netty sets no bridge attributes
            calls.computeIfAbsent(transport, k -> new AtomicLong()).incrementAndGet();
            SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
            Matcher ip = IPV4.matcher(String.valueOf(remote));
            peers.add(transport + ":" + (ip.find() ? ip.group() : String.valueOf(remote).replace(',', ';')));
            return next.startCall(call, headers);
          }
        };
    BridgeServerBuilder builder = BridgeServerBuilder.create().addService(echo).addService(new KeyValueService()).intercept(record);
    for (String arg : args) {
      // TARGET, or TARGET?option=value&option=value (transport options for that listener)
      int q = arg.indexOf('?');
      Map<String, String> options = new java.util.LinkedHashMap<>();
      if (q >= 0) {
        for (String kv : arg.substring(q + 1).split("&")) {
          options.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
      }
      builder.listen(Target.parse(q < 0 ? arg : arg.substring(0, q)), options);
    }
    BridgeServer server = builder.build().start();
    for (Target t : server.targets()) {
      System.out.println("listening on " + t);
    }
    System.out.println("ready");
    try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null && !line.strip().equals("quit")) {
        if (line.strip().equals("stats")) {
          System.out.println(stats(echo, calls, peers));
        } else if (!line.isBlank()) {
          System.out.println("ERROR unknown command '" + line.strip() + "' (stats, quit)");
        }
      }
    }
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    System.out.println(stats(echo, calls, peers));
    System.out.flush();
    System.exit(0);
  }

  private static String stats(EchoService echo, Map<String, AtomicLong> calls, Set<String> peers) {
    StringBuilder c = new StringBuilder();
    new TreeMap<>(calls).forEach((k, v) -> c.append(c.isEmpty() ? "" : ",").append(k).append(':').append(v.get()));
    return "STATS executions=" + echo.executions() + " calls=" + c + " peers=" + String.join(",", peers);
  }
}
