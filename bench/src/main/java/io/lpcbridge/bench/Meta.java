package io.lpcbridge.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where and how a run was made, written with every result: the figures mean little without it.
 *
 * @param loadBefore {@code /proc/loadavg} when the run started (other work on the machine skews
 *     every figure; see it beside the results)
 */
record Meta(
    String date,
    String command,
    String host,
    String os,
    String cpu,
    int cpus,
    String java,
    List<String> jvmFlags,
    String serverExecutor,
    List<String> placements,
    int runs,
    long warmupMillis,
    long measureMillis,
    String loadBefore,
    String loadAfter,
    double seconds,
    List<String> notes) {

  /** How the figures were taken over the runs, for the reports' headers. */
  String medians() {
    return runs == 1 ? "One run" : "Medians over up to " + runs + " runs (each row's run count is in the CSV and in --table=all)";
  }

  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException e) {
      // Not Linux.
    }
    return System.getProperty("os.arch");
  }

  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** One line for tables and the README: machine, OS, Java. */
  String machine() {
    return cpus + " vCPU " + cpu + ", " + os + ", Java " + java;
  }
}
