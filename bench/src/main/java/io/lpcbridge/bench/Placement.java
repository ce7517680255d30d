package io.lpcbridge.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the client and server processes run: pinned with {@code taskset -c} to one vCPU together
 * ({@code same}), to one vCPU each ({@code split}), or left to the scheduler ({@code none}). On
 * small VMs this matters more than the transport: a wake-up on a halted vCPU costs tens of µs.
 *
 * @param clientCpu the client's CPU list for taskset, or null when unpinned
 * @param serverCpu the server's, or null
 */
record Placement(String name, String clientCpu, String serverCpu) {

  /** {@code same(cpu1)}, {@code split(c0/s1)} (client on cpu0, server on cpu1), {@code none}: recorded in every row. */
  String label() {
    if (clientCpu == null) {
      return name;
    }
    return name.equals("same") ? "same(cpu" + clientCpu + ")" : "split(c" + clientCpu + "/s" + serverCpu + ")";
  }

  List<String> prefix(boolean client) {
    String cpu = client ? clientCpu : serverCpu;
    return cpu == null ? List.of() : List.of("taskset", "-c", cpu);
  }

  /**
   * The placement called {@code name} on this machine's allowed CPUs.
   *
   * @throws IllegalArgumentException when it cannot be had here (split needs two CPUs; pinning needs taskset)
   */
  static Placement of(String name, List<Integer> cpus, boolean haveTaskset) {
    switch (name) {
      case "none" -> {
        return new Placement("none", null, null);
      }
      case "same", "split" -> {
        if (!haveTaskset) {
          throw new IllegalArgumentException("placement " + name + " needs taskset (util-linux), which is not on the PATH");
        }
        if (name.equals("same")) {
          String cpu = String.valueOf(cpus.getLast());
          return new Placement("same", cpu, cpu);
        }
        if (cpus.size() < 2) {
          throw new IllegalArgumentException("placement split needs two CPUs; this process may use only " + cpus);
        }
        return new Placement("split", String.valueOf(cpus.get(0)), String.valueOf(cpus.get(1)));
      }
      default -> throw new IllegalArgumentException("unknown placement '" + name + "'; known: same, split, none");
    }
  }

  /** The CPUs this process may run on (Cpus_allowed_list of /proc/self/status). */
  static List<Integer> allowedCpus() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("Cpus_allowed_list:")) {
          List<Integer> cpus = new ArrayList<>();
          for (String part : line.substring(line.indexOf(':') + 1).trim().split(",")) {
            String[] range = part.trim().split("-");
            int lo = Integer.parseInt(range[0]);
            int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
            for (int c = lo; c <= hi; c++) {
              cpus.add(c);
            }
          }
          return cpus;
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: fall through.
    }
    List<Integer> cpus = new ArrayList<>();
    for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
      cpus.add(i);
    }
    return cpus;
  }

  static boolean haveTaskset() {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      if (Files.isExecutable(Path.of(dir, "taskset"))) {
        return true;
      }
    }
    return false;
  }
}
