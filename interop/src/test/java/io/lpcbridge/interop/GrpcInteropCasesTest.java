package io.lpcbridge.interop;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.grpc.testing.integration.AbstractInteropTest;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.AssumptionViolatedException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.opentest4j.AssertionFailedError;

/**
 * Runs gRPC's own interop cases ({@link InteropCase}) on stock grpc-netty, the reference, and over a
 * BridgeServer and BridgeChannel on every foundation transport.
 *
 * <p>AbstractInteropTest is a JUnit 4 class; its case methods are public, so they are driven from
 * JUnit 5 here, with its lifecycle kept: a fresh instance per case, {@code setUp()}, the case,
 * {@code tearDown()}, all under the 60-second preemptive timeout its {@code @Rule} sets. That runs
 * exactly the required cases, as one transport-by-case matrix like the transport conformance suite,
 * without the vintage engine.
 *
 * <p>Census checks are off ({@code metricsExpected()} is false everywhere: no census module is
 * installed); the cases' stream-tracer checks run against the bridge's own tracer support.
 */
class GrpcInteropCasesTest {
  /** Its {@code globalTimeout} rule: {@code Timeout.seconds(60)}, which also covers setUp/tearDown. */
  private static final Duration CASE_TIMEOUT = Duration.ofSeconds(60);

  /** Who serves and who calls. */
  enum Endpoints {
    STOCK_GRPC(StockGrpcInteropCases::new),
    TCP(() -> new BridgeInteropCases("tcp")),
    TCP_JDK(() -> new BridgeInteropCases("tcp", java.util.Map.of("io", "jdk"))),
    UNIX(() -> new BridgeInteropCases("unix")),
    GRPC(() -> new BridgeInteropCases("grpc")),
    UNIX_DGRAM(() -> new BridgeInteropCases("unix+dgram")),
    FIFO(() -> new BridgeInteropCases("fifo")),
    MQ(() -> new BridgeInteropCases("mq")),
    PIPE(() -> new BridgeInteropCases("pipe")),
    SOCKETPAIR(() -> new BridgeInteropCases("socketpair")),
    UDP(() -> new BridgeInteropCases("udp")),
    UDP_JDK(() -> new BridgeInteropCases("udp", java.util.Map.of("io", "jdk"))),
    SHM(() -> new BridgeInteropCases("shm"));

    private final Supplier<AbstractInteropTest> factory;

    Endpoints(Supplier<AbstractInteropTest> factory) {
      this.factory = factory;
    }

    AbstractInteropTest newTest() {
      return factory.get();
    }
  }

  /**
   * The whole matrix, or the endpoints named (comma-separated) by the system property {@code
   * interop.endpoints}, for chasing one transport: {@code -Dinterop.endpoints=MQ,SHM}.
   */
  static Stream<Arguments> matrix() {
    java.util.Set<String> only = Arrays.stream(System.getProperty("interop.endpoints", "").split(","))
        .map(n -> n.trim().toUpperCase(java.util.Locale.ROOT)).filter(n -> !n.isEmpty()).collect(java.util.stream.Collectors.toSet());
    return Arrays.stream(Endpoints.values())
        .filter(e -> only.isEmpty() || only.contains(e.name()))
        .flatMap(e -> Arrays.stream(InteropCase.values()).map(c -> Arguments.of(e, c)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrix")
  void interopCase(Endpoints endpoints, InteropCase interopCase) {
    AbstractInteropTest test = endpoints.newTest();
    try {
      assertTimeoutPreemptively(
          CASE_TIMEOUT,
          () -> {
            test.setUp();
            try {
              interopCase.run(test);
            } finally {
              test.tearDown();
            }
          },
          () -> interopCase + " on " + test + " did not finish in " + CASE_TIMEOUT.toSeconds() + " s; the threads then:\n"
              + threadDump());
    } catch (AssumptionViolatedException | AssertionFailedError e) {
      throw e; // a skip (assumeEnoughMemory), or our own timeout, which names the case already
    } catch (Throwable t) {
      // gRPC's assertions carry no message; say which case failed where, keeping the original.
      throw new AssertionError(interopCase + " on " + test + " failed: " + t + where(t), t);
    }
  }

  /**
   * Every thread with its stack and the locks it holds or waits for, taken when a case hangs and
   * before its thread is interrupted: the failure then says where each side was stuck.
   */
  private static String threadDump() {
    StringBuilder dump = new StringBuilder();
    for (ThreadInfo info : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
      dump.append('"').append(info.getThreadName()).append("\" ").append(info.getThreadState());
      if (info.getLockName() != null) {
        dump.append(" on ").append(info.getLockName());
      }
      if (info.getLockOwnerName() != null) {
        dump.append(" held by \"").append(info.getLockOwnerName()).append('"');
      }
      dump.append('\n');
      for (StackTraceElement frame : info.getStackTrace()) {
        dump.append("    at ").append(frame).append('\n');
      }
    }
    return dump.toString();
  }

  /** The innermost frame of gRPC's interop code that threw, if any. */
  private static String where(Throwable t) {
    for (StackTraceElement frame : t.getStackTrace()) {
      if (frame.getClassName().startsWith("io.grpc.testing.integration.")) {
        return " at " + frame;
      }
    }
    return "";
  }
}
