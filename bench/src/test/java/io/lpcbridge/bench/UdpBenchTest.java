package io.lpcbridge.bench;

import static io.lpcbridge.bench.TestRows.goal;
import static io.lpcbridge.bench.TestRows.stream;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The udp additions on hand-made rows and plans: the socket/udp floor's cells, {@code --loss}
 * parsing, the loss endpoints and their rules and counters, and the two udp goals.
 */
class UdpBenchTest {
  private static final String SPLIT = TestRows.SPLIT;

  private static Row unary(int run, String series, double p50) {
    return TestRows.unary(run, series, p50, 2);
  }

  @Test
  void udpUnaryIsJudgedAgainstThePlainUdpPingPongPerRun() {
    List<Row> rows = new ArrayList<>();
    double[][] p50 = {{40, 30}, {39, 30}, {60, 30}}; // bridge/udp, socket/udp per run
    for (int run = 1; run <= 3; run++) {
      rows.add(unary(run, "bridge/udp", p50[run - 1][0]));
      rows.add(unary(run, "raw/udp", 35));
      rows.add(unary(run, "socket/udp", p50[run - 1][1]));
    }
    Summary s = new Summary(rows);
    Goal g = goal(Goals.judge(s), "udp: bridge/udp unary 64 B p50 <= 1.3x socket/udp");
    assertEquals("FAIL", g.verdict());
    assertEquals(List.of(40 / 30.0, 39 / 30.0, 2.0), g.perRun());
    assertEquals(40 / 30.0, g.measured(), 1e-9);
    assertTrue(g.detail().contains("socket/udp p50 30.0 µs"), g.detail());
    // raw/udp's floor is the plain UDP ping-pong too.
    assertEquals(35 / 30.0, s.agg(SPLIT, "raw/udp", "unary", 64, 1, "closed").orElseThrow().vsFloor(), 1e-9);

    rows.set(6, unary(3, "bridge/udp", 38));
    assertEquals("PASS", goal(Goals.judge(new Summary(rows)), "udp: bridge/udp unary").verdict());
  }

  @Test
  void udpGoalsSkipWithAReasonWhenNotMeasured() {
    List<Goal> goals = Goals.judge(new Summary(List.of(unary(1, "bridge/unix", 20))), "no run with packet loss: it takes --loss=10");
    assertEquals("SKIP", goal(goals, "udp: bridge/udp").verdict());
    Goal loss = goal(goals, "udp server-stream throughput under 10% loss");
    assertEquals("SKIP", loss.verdict());
    assertEquals("no run with packet loss: it takes --loss=10", loss.detail());
    // The bridge row without loss alone: no ratio to take.
    goals = Goals.judge(new Summary(List.of(unary(1, "bridge/udp", 40), stream(1, "bridge/udp", 0, 50_000))));
    assertEquals("SKIP", goal(goals, "udp: bridge/udp").verdict());
    assertEquals("SKIP", goal(goals, "udp server-stream throughput under 10% loss").verdict());
    // The row with loss alone: its loss-free sibling is missing.
    goals = Goals.judge(new Summary(List.of(stream(1, "bridge/udp[loss=10%]", 10, 20_000))));
    Goal sibling = goal(goals, "udp server-stream throughput under 10% loss");
    assertEquals("SKIP", sibling.verdict());
    assertTrue(sibling.detail().contains("loss-free sibling bridge/udp"), sibling.detail());
  }

  @Test
  void lossThroughputIsTheMedianOfRatiosWithinARun() {
    List<Row> rows = new ArrayList<>();
    double[][] rates = {{100_000, 40_000}, {80_000, 20_000}, {120_000, 30_000}}; // without, with loss
    for (int run = 1; run <= 3; run++) {
      rows.add(stream(run, "bridge/udp", 0, rates[run - 1][0]));
      rows.add(stream(run, "bridge/udp[loss=10%]", 10, rates[run - 1][1]));
      rows.add(stream(run, "bridge/udp[loss=30%]", 30, 1_000));
    }
    Summary s = new Summary(rows);
    Goal g = goal(Goals.judge(s, null), "udp server-stream throughput under 10% loss >= 30% of loss-free");
    assertEquals(List.of(0.4, 0.25, 0.25), g.perRun());
    assertEquals("FAIL", g.verdict());
    assertTrue(g.detail().contains("nft dropped 3,000 of 30,000 (10.0%)"), g.detail());
    Agg lossy = s.agg(SPLIT, "bridge/udp[loss=10%]", "server-stream", 1024, 1, "closed").orElseThrow();
    assertEquals(0.25, lossy.vsLossFree(), 1e-9);
    assertEquals(10, lossy.loss());
    assertEquals(10.0, lossy.lossApplied(), 1e-9);
    // Never compared as if loss-free: no floor, no stock gRPC.
    assertNull(lossy.vsFloor());
    assertNull(lossy.floor());
    assertNull(lossy.grpc());
    assertNull(s.agg(SPLIT, "bridge/udp", "server-stream", 1024, 1, "closed").orElseThrow().vsLossFree());
    assertTrue(Tables.loss(s, SPLIT).rows().stream().anyMatch(r -> r[0].equals("bridge/udp[loss=30%]")));
    assertTrue(Tables.throughput(s, SPLIT, "server-stream", 1024, 1).rows().stream().noneMatch(r -> r[0].contains("loss")));
    String csv = Reports.rowsCsv(rows);
    assertTrue(csv.lines().skip(1).anyMatch(l -> l.contains(",bridge/udp[loss=10%],-,10,10000,1000,server-stream,")), csv);

    rows.set(4, stream(2, "bridge/udp[loss=10%]", 10, 40_000));
    assertEquals("PASS", goal(Goals.judge(new Summary(rows), null), "udp server-stream throughput under 10% loss").verdict());
  }

  @Test
  void eachEngineUnderLossIsJudgedAgainstItsOwnLossFreeRate() {
    List<Row> rows = new ArrayList<>();
    for (int run = 1; run <= 3; run++) {
      rows.add(stream(run, "bridge/udp", 0, 100_000));
      rows.add(stream(run, "bridge/udp[loss=10%]", 10, 50_000));
      rows.add(stream(run, "bridge/udp[io=jdk]", 0, 200_000));
      rows.add(stream(run, "bridge/udp[io=jdk][loss=10%]", 10, 40_000));
    }
    List<Goal> goals = Goals.judge(new Summary(rows), null);
    Goal netty = goal(goals, "bridge/udp server-stream throughput under 10% loss");
    Goal jdk = goal(goals, "bridge/udp[io=jdk] server-stream throughput under 10% loss");
    assertEquals(List.of(0.5, 0.5, 0.5), netty.perRun());
    assertEquals("PASS", netty.verdict());
    assertEquals(List.of(0.2, 0.2, 0.2), jdk.perRun());
    assertEquals("FAIL", jdk.verdict());
  }

  @Test
  void lossPercentagesAreParsedStrictly() {
    assertEquals(List.of(), BenchCommand.losses(null));
    assertEquals(List.of(10), BenchCommand.losses(List.of("10")));
    assertEquals(List.of(10, 30), BenchCommand.losses(List.of("10%", " 30 ", "10")));
    for (String bad : List.of("0", "100", "-5", "ten", "10.5", "")) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchCommand.losses(List.of(bad)), bad);
      assertTrue(e.getMessage().startsWith("--loss takes"), e.getMessage());
    }
  }

  @Test
  void socketUdpRunsUnaryOfOneDatagramAndSaysWhyNotTheRest() {
    Endpoint udp = new Endpoint("socket-udp", Stack.SOCKET, "udp", "udp://127.0.0.1:0", Map.of(), "-", false, null);
    List<BenchPlan.Cell> cells = BenchPlan.grid(List.of(Kind.UNARY, Kind.SERVER_STREAM, Kind.CLIENT_STREAM, Kind.BIDI),
        List.of(64, 1024, 65536, 1 << 20), List.of(1, 16), List.of(Mode.CLOSED, Mode.FIXED));
    List<Scenario> sc = BenchPlan.scenarios(udp, cells, 0.5, 100, 100);
    assertTrue(sc.stream().allMatch(x -> x.kind() == Kind.UNARY && x.size() <= SocketEchoServer.MAX_DATAGRAM && x.concurrency() == 1), sc.toString());
    assertEquals(4, sc.size(), sc.toString()); // 64 B and 1 KiB, closed and fixed
    List<String> notes = BenchPlan.skipped(List.of(udp), cells);
    assertEquals(2, notes.size(), notes.toString());
    assertTrue(notes.contains("skipping socket/udp 64 KiB, 1 MiB: " + BenchPlan.UDP_TOO_LARGE), notes.toString());
    assertTrue(notes.contains("skipping socket/udp server-stream, client-stream: " + BenchPlan.UDP_NO_STREAMS), notes.toString());
    Endpoint tcp = new Endpoint("socket-tcp", Stack.SOCKET, "tcp", "tcp://127.0.0.1:0", Map.of(), "-", false, null);
    assertEquals(List.of(), BenchPlan.skipped(List.of(tcp), cells));
  }

  @Test
  void lossEndpointsFollowTheirBridgeUdpEndpointAndRunServerStreamingOnly() {
    Endpoint bridge = new Endpoint("bridge-udp", Stack.BRIDGE, "udp", "udp://127.0.0.1:0", Map.of(), "-", false, null);
    Endpoint raw = new Endpoint("raw-udp", Stack.RAW, "udp", "udp://127.0.0.1:0", Map.of(), "-", false, null);
    Endpoint tcp = new Endpoint("bridge-tcp", Stack.BRIDGE, "tcp", "tcp://127.0.0.1:0", Map.of(), "-", false, null);
    List<Endpoint> all = BenchPlan.withLoss(List.of(tcp, bridge, raw), List.of(10, 30));
    assertEquals(List.of("bridge-tcp", "bridge-udp", "bridge-udp-loss10", "bridge-udp-loss30", "raw-udp"), all.stream().map(Endpoint::id).toList());
    Endpoint lossy = all.get(2);
    assertEquals("bridge/udp[loss=10%]", lossy.series());
    assertEquals("bridge/udp", Endpoint.lossFree(lossy.series()));
    assertEquals("bridge/shm[idle=spin][loss=5%]", Endpoint.series("bridge/shm", "spin", 5));
    assertEquals(0, Endpoint.fromSpec(lossy.toSpec()).loss());
    List<BenchPlan.Cell> cells = BenchPlan.grid(List.of(Kind.UNARY, Kind.SERVER_STREAM, Kind.BIDI), List.of(64, 1024), List.of(1, 4),
        List.of(Mode.CLOSED));
    List<Scenario> sc = BenchPlan.scenarios(lossy, cells, 0.5, 100, 100);
    assertEquals(4, sc.size(), sc.toString());
    assertTrue(sc.stream().allMatch(x -> x.kind() == Kind.SERVER_STREAM && x.endpoint().equals("bridge-udp-loss10")), sc.toString());
    assertEquals(List.of(), BenchPlan.skipped(all, cells));
  }

  @Test
  void lossRulesAndTheirCounters() throws IOException {
    Map<Integer, Integer> ports = new LinkedHashMap<>();
    ports.put(40000, 10);
    String script = LoopbackLoss.script("t", ports);
    assertTrue(script.contains("type filter hook output priority 0; policy accept;"), script);
    assertTrue(script.contains("oifname \"lo\" udp dport 40000 numgen random mod 100 lt 10 counter drop comment \"drop:40000:to\""), script);
    assertTrue(script.contains("oifname \"lo\" udp sport 40000 numgen random mod 100 lt 10 counter drop comment \"drop:40000:from\""), script);
    assertTrue(script.contains("oifname \"lo\" udp sport 40000 counter comment \"seen:40000:from\""), script);
    assertThrows(IllegalArgumentException.class, () -> LoopbackLoss.script("t", Map.of(40000, 100)));

    // As nft -j list table prints it (nftables 1.0.6), with one rule of another port.
    String json = "{\"nftables\": [{\"metainfo\": {\"version\": \"1.0.6\", \"json_schema_version\": 1}},"
        + " {\"table\": {\"family\": \"inet\", \"name\": \"t\", \"handle\": 2}},"
        + " {\"chain\": {\"family\": \"inet\", \"table\": \"t\", \"name\": \"output\", \"handle\": 1, \"type\": \"filter\", \"hook\": \"output\","
        + " \"prio\": 0, \"policy\": \"accept\"}},"
        + rule("seen:40000:to", 1000, false) + "," + rule("drop:40000:to", 98, true) + "," + rule("seen:40000:from", 900, false) + ","
        + rule("drop:40000:from", 91, true) + "," + rule("seen:40001:to", 5, false) + "]}";
    LoopbackLoss.Counts c = LoopbackLoss.parseCounts(json, 40000);
    assertEquals(new LoopbackLoss.Counts(1900, 189), c);
    assertEquals(new LoopbackLoss.Counts(900, 89), c.minus(new LoopbackLoss.Counts(1000, 100)));
    assertEquals("dropped 189 of 1,900 UDP datagrams (9.9%)", c.toString());
    IOException missing = assertThrows(IOException.class, () -> LoopbackLoss.parseCounts(json, 40001));
    assertTrue(missing.getMessage().contains("drop:40001:to"), missing.getMessage());
  }

  @Test
  void thePlainUdpPingPongEchoesAndALostDatagramFailsTheRowInsteadOfHanging() throws Exception {
    SocketEchoServer server = SocketEchoServer.bind("udp", "udp://127.0.0.1:0");
    server.start();
    Scenario unary = new Scenario("socket-udp", Kind.UNARY, Mode.CLOSED, 64, 1, 0.5, 0, 100);
    SocketDriver echo = new SocketDriver(new Endpoint("socket-udp", Stack.SOCKET, "udp", server.target(), Map.of(), "-", false, null));
    Window w = new Window();
    echo.start(unary, w, 0);
    w.beginMeasure();
    Thread.sleep(100);
    long calls = w.endMeasure().getTotalCount();
    assertTrue(w.awaitQuiet(5_000_000_000L));
    echo.close();
    assertNull(w.failure());
    assertTrue(calls > 0, "no round trip in 100 ms");

    // A peer that never answers: every datagram is lost.
    try (java.nio.channels.DatagramChannel silent = java.nio.channels.DatagramChannel.open(java.net.StandardProtocolFamily.INET)) {
      silent.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      int port = ((java.net.InetSocketAddress) silent.getLocalAddress()).getPort();
      SocketDriver lost = new SocketDriver(new Endpoint("socket-udp", Stack.SOCKET, "udp", "udp://127.0.0.1:" + port, Map.of(), "-", false, null));
      Window w2 = new Window();
      lost.start(unary, w2, 0);
      assertTrue(w2.awaitQuiet((SocketDriver.UDP_RECEIVE_TIMEOUT_MILLIS + 3000) * 1_000_000), "the driver hung on a lost datagram");
      lost.close();
      assertTrue(w2.failure() != null && w2.failure().getMessage().contains("did not answer within 2000 ms"), String.valueOf(w2.failure()));
    }
    assertThrows(IllegalArgumentException.class,
        () -> new SocketDriver(new Endpoint("socket-udp", Stack.SOCKET, "udp", server.target(), Map.of(), "-", false, null))
            .start(new Scenario("socket-udp", Kind.UNARY, Mode.CLOSED, 65536, 1, 0.5, 0, 100), new Window(), 0));
  }

  private static String rule(String comment, long packets, boolean drop) {
    return "{\"rule\": {\"family\": \"inet\", \"table\": \"t\", \"chain\": \"output\", \"handle\": 3, \"comment\": \"" + comment + "\","
        + " \"expr\": [{\"match\": {\"op\": \"==\", \"left\": {\"meta\": {\"key\": \"oifname\"}}, \"right\": \"lo\"}},"
        + " {\"counter\": {\"packets\": " + packets + ", \"bytes\": " + packets * 100 + "}}" + (drop ? ", {\"drop\": null}" : "") + "]}}";
  }
}
