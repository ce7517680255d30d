package io.lpcbridge.it;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Two hosts on one machine: two network namespaces joined by a veth pair, as if by a cable.
 *
 * <pre>
 *   host a                                      host b
 *   netns lbit-PID-N-a                          netns lbit-PID-N-b
 *   lo 127.0.0.1                                lo 127.0.0.1
 *   lbitPPPPPPNNa 10.77.0.1/24 &lt;-- veth --&gt; lbitPPPPPPNNb 10.77.0.2/24
 * </pre>
 *
 * PID is the test JVM's pid (decimal in the namespace, six hex digits in the interface name, which
 * the kernel limits to 15 characters) and N a counter, so concurrent runs never collide and a
 * later run can tell a dead run's leftovers ({@link #sweepStale}) from a live run's. The veth ends
 * are created directly inside their namespaces, so nothing is ever left in the root namespace.
 *
 * <p>{@link #close} kills whatever still runs in the namespaces (processes this run started there)
 * and deletes them, which also deletes the veth pair and any nftables rules.
 */
final class TestNetwork implements AutoCloseable {
  static final String PREFIX = "lbit";
  static final String SUBNET = "10.77.0";
  private static final Pattern OWN_NAMESPACE = Pattern.compile("^" + PREFIX + "-(\\d+)-\\d+-[a-z]$");
  private static final AtomicInteger SEQUENCE = new AtomicInteger();

  /** One host: a namespace, its end of the veth pair and its address on it. */
  record Host(String name, String namespace, String iface, String address) {
    /** {@code command} run inside this host's namespace. */
    List<String> exec(List<String> command) {
      List<String> cmd = new ArrayList<>(List.of(Requirements.executable("ip").orElseThrow().toString(), "netns", "exec", namespace));
      cmd.addAll(command);
      return cmd;
    }

    @Override
    public String toString() {
      return "host " + name + " (" + namespace + ", " + iface + " " + address + ")";
    }
  }

  private final Host a;
  private final Host b;
  private final List<String> created = new ArrayList<>();

  private TestNetwork(Host a, Host b) {
    this.a = a;
    this.b = b;
  }

  /** Builds the two hosts; on any failure removes what it built. */
  static TestNetwork create() {
    sweepStale();
    long pid = ProcessHandle.current().pid();
    int n = SEQUENCE.incrementAndGet() % 100;
    String ns = PREFIX + "-" + pid + "-" + n + "-";
    String link = PREFIX + String.format("%06x%02d", pid & 0xffffff, n);
    TestNetwork net =
        new TestNetwork(
            new Host("a", ns + "a", link + "a", SUBNET + ".1"), new Host("b", ns + "b", link + "b", SUBNET + ".2"));
    try {
      for (Host h : List.of(net.a, net.b)) {
        Commands.run("ip", "netns", "add", h.namespace());
        net.created.add(h.namespace());
      }
      Commands.run(
          "ip", "link", "add", net.a.iface(), "netns", net.a.namespace(), "type", "veth", "peer", "name", net.b.iface(), "netns",
          net.b.namespace());
      for (Host h : List.of(net.a, net.b)) {
        Commands.run("ip", "-n", h.namespace(), "link", "set", "lo", "up");
        Commands.run("ip", "-n", h.namespace(), "addr", "add", h.address() + "/24", "dev", h.iface());
        Commands.run("ip", "-n", h.namespace(), "link", "set", h.iface(), "up");
      }
      System.out.println("[it] network up: " + net.a + " <-> " + net.b);
      return net;
    } catch (RuntimeException e) {
      net.close();
      throw e;
    }
  }

  Host a() {
    return a;
  }

  Host b() {
    return b;
  }

  /** Takes the host's end of the cable down: its side loses carrier and the route to the other host. */
  void linkDown(Host h) {
    Commands.run("ip", "-n", h.namespace(), "link", "set", h.iface(), "down");
  }

  /** Brings the host's end back up; the kernel restores the subnet route with it. */
  void linkUp(Host h) {
    Commands.run("ip", "-n", h.namespace(), "link", "set", h.iface(), "up");
  }

  /** Drops {@code percent}% of UDP packets at random on {@code h}'s veth, each way; see {@link PacketLoss}. */
  PacketLoss dropUdp(Host h, int percent) {
    return PacketLoss.install(h, percent);
  }

  /** Kills what still runs in the namespaces and deletes them (and with them the veth pair). */
  @Override
  public void close() {
    for (String ns : created) {
      delete(ns);
    }
    created.clear();
  }

  private static void delete(String namespace) {
    killAllIn(namespace);
    Commands.Result r = Commands.tryRun(List.of("ip", "netns", "del", namespace));
    if (r.exit() != 0) {
      System.out.println("[it] could not delete netns " + namespace + ": " + r.output().strip());
    }
  }

  /** Kills, by pid, the processes still running in one of this harness's namespaces. */
  private static void killAllIn(String namespace) {
    Commands.Result pids = Commands.tryRun(List.of("ip", "netns", "pids", namespace));
    if (pids.exit() != 0) {
      return;
    }
    for (String line : pids.output().split("\\s+")) {
      if (line.matches("\\d+")) {
        ProcessHandle.of(Long.parseLong(line))
            .ifPresent(
                p -> {
                  p.destroyForcibly();
                  p.onExit().orTimeout(5, java.util.concurrent.TimeUnit.SECONDS).exceptionally(t -> p).join();
                });
      }
    }
  }

  /**
   * Deletes namespaces of this harness left by runs whose JVM is gone (a killed build), with what
   * still ran in them. Namespaces of live runs, and anything not named by this harness, are left
   * alone.
   */
  static void sweepStale() {
    Commands.Result list = Commands.tryRun(List.of("ip", "netns", "list"));
    if (list.exit() != 0) {
      return;
    }
    for (String line : list.output().split("\n")) {
      String name = line.strip().split("\\s+")[0];
      Matcher m = OWN_NAMESPACE.matcher(name);
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).map(p -> !p.isAlive()).orElse(true)) {
        System.out.println("[it] removing stale netns " + name + " (its test JVM " + m.group(1) + " is gone)");
        delete(name);
      }
    }
  }
}
