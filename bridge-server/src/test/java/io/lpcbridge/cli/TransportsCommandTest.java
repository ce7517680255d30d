package io.lpcbridge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TransportsCommandTest {
  @Test
  void listsTheFoundationTransports() {
    Cli r = Cli.run("transports");
    assertEquals(0, r.exit(), r::toString);
    List<String> lines = r.lines();
    assertTrue(lines.get(0).matches("NAME +SCHEMES +AVAILABLE +CAPABILITIES +DESCRIPTION"), r::toString);
    for (String name : List.of("tcp", "unix", "grpc")) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(name + " ") && l.contains(" yes ")), name + " row missing:\n" + r);
    }
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("grpc ") && l.contains("grpc+unix") && l.contains("NATIVE_RPC")), r::toString);
  }

  @Test
  void anUnavailableTransportSaysWhy() {
    String property = "bridge.transport.unix.disabled";
    System.setProperty(property, "true");
    try {
      Cli r = Cli.run("transports");
      assertEquals(0, r.exit(), r::toString);
      assertTrue(r.lines().stream().anyMatch(l -> l.startsWith("unix ") && l.contains(" no ")), r::toString);
      assertTrue(r.out().contains("unix is unavailable: disabled by system property " + property + "=true"), r::toString);
    } finally {
      System.clearProperty(property);
    }
  }

  @Test
  void everyCommandHasHelp() {
    for (String cmd : List.of("serve", "call", "transports", "demo")) {
      Cli r = Cli.run(cmd, "--help");
      assertEquals(0, r.exit(), r::toString);
      assertTrue(r.out().startsWith("Usage: bridge " + cmd), r::toString);
    }
    Cli none = Cli.run();
    assertEquals(2, none.exit(), none::toString);
    assertTrue(none.err().startsWith("bridge: missing command"), none::toString);
  }
}
