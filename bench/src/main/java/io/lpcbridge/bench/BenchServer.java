package io.lpcbridge.bench;

import io.lpcbridge.demo.EchoService;
import io.lpcbridge.server.BridgeServer;
import io.lpcbridge.server.BridgeServerBuilder;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's server process: the demo Echo service on a {@link BridgeServer} (its bridge and
 * stock-gRPC endpoints, with the executor {@code bridge serve} uses), a raw echo on an SPI listener
 * per transport, and plain-socket echoes, plus the control socket that reports this process's own
 * CPU time and context switches.
 *
 * <pre>
 * java ... io.lpcbridge.bench.BenchServer --control PATH [--direct-executor] [--quiet] --listen ID|STACK|TRANSPORT|TARGET[|k=v]...
 * </pre>
 *
 * Prints {@code listening ID TARGET} per endpoint (ports resolved) and {@code ready} on stdout
 * (nothing with {@code --quiet}, for a peer whose stdout is its transport), then serves until its
 * standard input ends (the parent is gone) or it is killed.
 */
public final class BenchServer {
  private BenchServer() {}

  public static void main(String[] args) throws Exception {
    KeepAwake.startIfAsked();
    Path control = null;
    boolean direct = false;
    boolean quiet = false;
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--control" -> control = Path.of(args[++i]);
        case "--direct-executor" -> direct = true;
        case "--quiet" -> quiet = true;
        case "--listen" -> endpoints.add(Endpoint.fromSpec(args[++i]));
        default -> {
          System.err.println("BenchServer: unknown argument " + args[i]);
          System.exit(2);
        }
      }
    }
    if (control == null) {
      System.err.println("BenchServer: --control PATH is required");
      System.exit(2);
    }
    PrintStream out = quiet ? new PrintStream(PrintStream.nullOutputStream()) : System.out;
    Map<String, String> bound = start(endpoints, direct);
    Control.serve(control);
    out.println("pid " + ProcessHandle.current().pid());
    for (Endpoint e : endpoints) {
      out.println("listening " + e.id() + " " + bound.get(e.id()));
    }
    out.println("ready");
    out.flush();
    if (!quiet) {
      awaitParentGone(System.in);
      System.exit(0);
    }
    Thread.sleep(Long.MAX_VALUE);
  }

  /** Binds and starts every endpoint; returns id to bound target. */
  static Map<String, String> start(List<Endpoint> endpoints, boolean direct) throws IOException {
    Map<String, String> bound = new LinkedHashMap<>();
    List<Endpoint> rpc = new ArrayList<>();
    BridgeServerBuilder b = BridgeServerBuilder.create().addService(new EchoService()).maxInboundMessageSize(64 << 20);
    if (direct) {
      b.directExecutor();
    }
    for (Endpoint e : endpoints) {
      switch (e.stack()) {
        case BRIDGE, GRPC -> {
          if (e.transport().equals(BenchPlan.INPROCESS)) {
            bound.put(e.id(), e.target()); // served by the client itself (RpcDriver)
            continue;
          }
          b.listen(Target.parse(e.target()), e.options());
          rpc.add(e);
        }
        case RAW -> {
          Target t = Target.parse(e.target());
          TransportProvider p = Transports.forTarget(t);
          TransportOptions options = TransportOptions.of(e.options());
          options.checkKnown(p.name(), p.supportedOptions());
          Listener l = p.listen(t, options);
          l.start(c -> c.start(new RawEchoServer(c)));
          bound.put(e.id(), l.localTarget().toString());
        }
        case SOCKET -> {
          SocketEchoServer s = SocketEchoServer.bind(e.transport(), e.target());
          s.start();
          bound.put(e.id(), s.target());
        }
      }
    }
    if (!rpc.isEmpty()) {
      BridgeServer server = b.build().start();
      List<Target> targets = server.targets();
      for (int i = 0; i < rpc.size(); i++) {
        bound.put(rpc.get(i).id(), targets.get(i).toString());
      }
    }
    return bound;
  }

  private static void awaitParentGone(InputStream in) {
    try {
      while (in.read() >= 0) {
        // The parent writes nothing; end of file means it is gone.
      }
    } catch (IOException e) {
      // Treated like end of file.
    }
  }
}
