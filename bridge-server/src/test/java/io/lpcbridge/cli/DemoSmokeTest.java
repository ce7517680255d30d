package io.lpcbridge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.grpc.GrpcTargets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bridge demo} runs end to end; its figures are not checked, only that every transport has a row. */
class DemoSmokeTest {
  @Test
  void tableHasARowPerTransport() {
    Cli r = Cli.run("demo", "--quick", "--calls", "200");
    assertEquals(0, r.exit(), r::toString);
    List<String> expected = new ArrayList<>(List.of("tcp", "unix", "grpc", "unix+dgram", "udp", "fifo", "mq", "pipe", "socketpair", "shm"));
    if (GrpcTargets.isUnixAvailable()) {
      expected.add("grpc+unix");
    }
    List<String> lines = r.lines();
    int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("TRANSPORT ")).findFirst().orElseThrow(() -> new AssertionError(r)));
    List<String> rows = new ArrayList<>();
    for (int i = header + 2; i < lines.size() && !lines.get(i).isBlank() && !lines.get(i).startsWith("P50 VS GRPC"); i++) {
      rows.add(lines.get(i));
    }
    for (String scheme : expected) {
      assertTrue(rows.stream().anyMatch(l -> l.startsWith(scheme + " ")), () -> "no row for " + scheme + " in " + rows + "\n" + r);
    }
    assertTrue(rows.stream().filter(l -> l.startsWith("grpc ")).findFirst().orElseThrow().endsWith("1.00x"), r::toString);
    assertTrue(r.out().contains("quick smoke comparison"), r::toString);
  }
}
