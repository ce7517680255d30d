package io.lpcbridge.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** What each run of {@code bridge bench} measures, from its flags: nothing is run here. */
class BenchSettingsTest {

  private static BenchCommand.Settings settings(String... args) {
    BenchCommand command = new BenchCommand();
    new CommandLine(command).parseArgs(args);
    return command.settings();
  }

  private static final BenchPlan.Cell UNARY_64 = new BenchPlan.Cell(Kind.UNARY, Mode.CLOSED, 64, 1);
  private static final BenchPlan.Cell STREAM_1K = new BenchPlan.Cell(Kind.SERVER_STREAM, Mode.CLOSED, 1024, 1);

  @Test
  void theFullSweepMeasuresEveryCellOnceAndRepeatsTheGoalCells() {
    BenchCommand.Settings s = settings();
    // 4 kinds x 4 sizes x 3 concurrencies, plus fixed rate for unary with one call in flight.
    assertEquals(4 * 4 * 3 + 4, s.cells().size());
    assertEquals(3, s.runs());
    assertEquals(s.cells(), s.cellsOfRun(1));
    assertEquals(List.of(UNARY_64, STREAM_1K), s.cellsOfRun(2));
    assertEquals(List.of(UNARY_64, STREAM_1K), s.cellsOfRun(3));
  }

  @Test
  void aChosenSubsetIsRepeatedWhole() {
    BenchCommand.Settings s = settings("--sizes", "64,64k", "--kinds", "unary");
    assertEquals(s.cells(), s.cellsOfRun(2));
    assertTrue(s.cells().stream().anyMatch(c -> c.size() == 64 * 1024));
  }

  @Test
  void repeatOverridesTheDefault() {
    assertEquals(settings().cells(), settings("--repeat", "all").cellsOfRun(3));
    assertEquals(List.of(UNARY_64), settings("--kinds", "unary", "--modes", "closed", "--repeat", "goals").cellsOfRun(2));
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> settings("--repeat", "some"));
    assertTrue(e.getMessage().contains("--repeat takes all or goals"), e.getMessage());
  }

  @Test
  void quickMeasuresTheGoalCellsInOneRunWithBoundedWarmUps() {
    BenchCommand.Settings s = settings("--quick");
    assertEquals(List.of(UNARY_64, STREAM_1K), s.cells());
    assertEquals(1, s.runs());
    assertEquals(List.of(), s.idles());
    assertTrue(s.warmup().bounded());
    assertTrue(s.warmup().maxMillis() <= 1_000, "a quick warm-up is bounded to about a second: " + s.warmup());
    assertTrue(Warmup.quickBaseline(s.warmupMillis()).maxMillis() <= 5_000);
  }

  @Test
  void goalsMeasureTheGoalCellsThreeTimesUntilSteady() {
    BenchCommand.Settings s = settings("--goals");
    assertEquals(List.of(UNARY_64, STREAM_1K), s.cells());
    assertEquals(3, s.runs());
    assertEquals(s.cells(), s.cellsOfRun(3));
    assertEquals(BenchCommand.FULL_IDLES, s.idles());
    assertEquals(500, s.warmupMillis());
    assertEquals(1_000, s.measureMillis());
    assertEquals(1, s.placements().size());
    assertTrue(!s.warmup().bounded() && s.warmup().maxMillis() == 20_000, s.warmup().toString());
    assertEquals(2, settings("--goals", "--runs", "2").runs());
  }

  @Test
  void everyProcessKeepsAwakeAtOneMillisecondUnlessToldOtherwise() {
    assertEquals(1_000, settings().keepAwakeMicros());
    assertEquals(250, settings("--keep-awake", "250us").keepAwakeMicros());
    assertEquals(2_000, settings("--keep-awake", "2ms").keepAwakeMicros());
    assertEquals(0, settings("--keep-awake", "0").keepAwakeMicros());
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> settings("--keep-awake", "10us"));
    assertTrue(e.getMessage().contains("at least 50us"), e.getMessage());
    e = assertThrows(CommandLine.ParameterException.class, () -> settings("--keep-awake", "often"));
    assertTrue(e.getMessage().contains("'often'"), e.getMessage());
  }

  @Test
  void tcpIsMeasuredOncePerEngineAskedFor(@org.junit.jupiter.api.io.TempDir java.nio.file.Path scratch) {
    assertEquals(List.of("default", "jdk"), settings().ios());
    assertEquals(List.of("default", "jdk"), settings("--quick").ios());
    List<String> notes = new java.util.ArrayList<>();
    List<Endpoint> endpoints = BenchPlan.endpoints(
        scratch, java.util.Set.of("tcp", "unix"), java.util.Set.of(Stack.BRIDGE, Stack.RAW), List.of(), List.of("default", "jdk", "kqueue"), notes::add);
    assertEquals(List.of("bridge/tcp", "bridge/tcp[io=jdk]", "raw/tcp", "raw/tcp[io=jdk]", "bridge/unix", "raw/unix"),
        endpoints.stream().map(Endpoint::series).toList());
    assertEquals(java.util.Map.of("io", "jdk"), endpoints.get(1).options());
    assertTrue(notes.stream().anyMatch(n -> n.contains("io=kqueue") && n.contains("auto, epoll, nio, jdk")), notes.toString());
    // The endpoint as the bench server reads it keeps its engine and its series.
    assertEquals("bridge/tcp[io=jdk]", Endpoint.fromSpec(endpoints.get(1).toSpec()).series());
  }

  @Test
  void quickAndGoalsAreExclusive() {
    CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, () -> settings("--quick", "--goals"));
    assertTrue(e.getMessage().contains("choose one"), e.getMessage());
  }

  @Test
  void streamingCallsShareTheirMessagesAmongTheCallsInFlight() {
    assertEquals(16_384, RawProtocol.messagesPerCall(64));
    assertEquals(16_384, RawProtocol.messagesPerCall(64, 1));
    assertEquals(1_024, RawProtocol.messagesPerCall(64, 16));
    assertEquals(256, RawProtocol.messagesPerCall(64, 64));
    assertEquals(64, RawProtocol.messagesPerCall(1024, 64));
    assertEquals(16, RawProtocol.messagesPerCall(64 * 1024, 16));
    assertEquals(16, RawProtocol.messagesPerCall(1 << 20, 64));
  }
}
