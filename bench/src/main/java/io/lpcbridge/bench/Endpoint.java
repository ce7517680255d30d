package io.lpcbridge.bench;

import java.util.Map;

/**
 * One thing the bench server listens on and the client calls.
 *
 * @param id short unique key, e.g. {@code bridge-unix}
 * @param stack what serves it
 * @param transport the transport's name ({@code tcp}, {@code unix}, {@code shm}...; for the grpc
 *     and socket stacks the socket family, {@code tcp} or {@code unix}, or {@link
 *     BenchPlan#INPROCESS} for stock gRPC in the client's own process)
 * @param target the target to listen on (before binding) or to call (after)
 * @param options transport options, given to both ends
 * @param idle the idle strategy in {@code options}, {@code default} when the transport has one but
 *     none was chosen, {@code -} when the transport has none
 * @param spawned true when the client's transport launches the server itself ({@link
 *     SpawnedPeers}); {@code target} is then the child's listen target until the run resolves it
 * @param control for a spawned peer, that peer's control socket; null for endpoints of the shared
 *     bench server
 * @param loss percent of this endpoint's UDP datagrams dropped at random on the loopback interface,
 *     each way, while it is measured ({@code --loss}, see {@link LoopbackLoss}); 0 for every
 *     endpoint measured without loss
 */
record Endpoint(
    String id, Stack stack, String transport, String target, Map<String, String> options, String idle, boolean spawned, String control,
    int loss) {

  Endpoint(String id, Stack stack, String transport, String target, Map<String, String> options, String idle, boolean spawned, String control) {
    this(id, stack, transport, target, options, idle, spawned, control, 0);
  }

  Endpoint withTarget(String bound) {
    return new Endpoint(id, stack, transport, bound, options, idle, spawned, control, loss);
  }

  /** A spawned peer's endpoint as the client sees it: the target that launches it, and its control socket. */
  Endpoint spawnedAs(String clientTarget, Map<String, String> clientOptions, String controlPath) {
    return new Endpoint(id, stack, transport, clientTarget, Map.copyOf(clientOptions), idle, true, controlPath, loss);
  }

  /**
   * A listener of its own with the same stack, transport and options, measured under {@code
   * percent}% random loss: its own port, so that the loss rules match it alone.
   */
  Endpoint withLoss(int percent) {
    return new Endpoint(id + "-loss" + percent, stack, transport, target, options, idle, spawned, control, percent);
  }

  /**
   * The series name shown in tables and plots, e.g. {@code bridge/shm[idle=spin]}, {@code
   * bridge/tcp[io=jdk]}, {@code bridge/udp[loss=10%]}.
   */
  String series() {
    String io = options.get(BenchPlan.IO_OPTION);
    return series(stack.label() + "/" + transport + (io == null ? "" : "[io=" + io + "]"), idle, loss);
  }

  static String series(String stackAndTransport, String idle, int loss) {
    return stackAndTransport + (idle.equals("-") ? "" : "[idle=" + idle + "]") + (loss == 0 ? "" : "[loss=" + loss + "%]");
  }

  /** The series of the same endpoint without loss: {@code bridge/udp[loss=10%]} to {@code bridge/udp}. */
  static String lossFree(String series) {
    return series.replaceFirst("\\[loss=[0-9]+%]$", "");
  }

  /** {@code ID|STACK|TARGET|k=v|...}: the form the bench server takes on its command line. */
  String toSpec() {
    StringBuilder b = new StringBuilder(id).append('|').append(stack.label()).append('|').append(transport).append('|').append(target);
    options.forEach((k, v) -> b.append('|').append(k).append('=').append(v));
    return b.toString();
  }

  static Endpoint fromSpec(String spec) {
    String[] p = spec.split("\\|", -1);
    if (p.length < 4) {
      throw new IllegalArgumentException("endpoint spec '" + spec + "' is not ID|STACK|TRANSPORT|TARGET[|k=v...]");
    }
    Map<String, String> options = new java.util.LinkedHashMap<>();
    for (int i = 4; i < p.length; i++) {
      int eq = p[i].indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("endpoint spec '" + spec + "': option '" + p[i] + "' is not key=value");
      }
      options.put(p[i].substring(0, eq), p[i].substring(eq + 1));
    }
    String idle = options.getOrDefault(BenchPlan.IDLE_OPTION, "-");
    return new Endpoint(p[0], Stack.parse(p[1]), p[2], p[3], Map.copyOf(options), idle, false, null);
  }
}
