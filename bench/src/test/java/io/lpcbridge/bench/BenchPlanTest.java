package io.lpcbridge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BenchPlanTest {

  /**
   * A run measures cell by cell, every endpoint in turn within a cell: a row and its floor are
   * measured seconds apart. Cells an endpoint leaves out are skipped, and each endpoint's fixed-rate
   * cell still comes after its closed-loop one.
   */
  @Test
  void aRunMeasuresEachCellOnEveryEndpointBeforeTheNextCell() {
    Endpoint bridge = new Endpoint("bridge-shm", Stack.BRIDGE, "shm", "shm://b", Map.of(), "spin", false, null);
    Endpoint raw = new Endpoint("raw-shm", Stack.RAW, "shm", "shm://r", Map.of(), "spin", false, null);
    Endpoint grpc = new Endpoint("grpc-tcp", Stack.GRPC, "tcp", "tcp://127.0.0.1:0", Map.of(), "-", false, null);
    List<BenchPlan.Cell> cells = BenchPlan.grid(List.of(Kind.UNARY, Kind.SERVER_STREAM, Kind.BIDI), List.of(64), List.of(1),
        List.of(Mode.CLOSED, Mode.FIXED));
    List<String> order = BenchPlan.interleaved(List.of(bridge, raw, grpc), cells, 0.5, 100, 100).stream()
        .map(s -> s.endpoint() + " " + s.kind().label() + " " + s.mode())
        .toList();
    assertEquals(
        List.of(
            "bridge-shm unary CLOSED", "raw-shm unary CLOSED", "grpc-tcp unary CLOSED",
            "bridge-shm unary FIXED", "raw-shm unary FIXED", "grpc-tcp unary FIXED",
            "bridge-shm server-stream CLOSED", "raw-shm server-stream CLOSED", "grpc-tcp server-stream CLOSED",
            // A floor has no bidi row (its unary row is the echo).
            "bridge-shm bidi CLOSED", "grpc-tcp bidi CLOSED"),
        order);
  }
}
