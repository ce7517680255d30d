package io.lpcbridge.interop;

import io.grpc.testing.integration.AbstractInteropTest;
import java.util.Locale;

/**
 * The interop cases every transport must pass: the list of the issue, by their names in gRPC's
 * interop test descriptions, each bound to the {@link AbstractInteropTest} method that implements
 * it. The other public methods of AbstractInteropTest (compression, retries, census, soak...) are
 * not run here.
 */
enum InteropCase {
  EMPTY_UNARY(AbstractInteropTest::emptyUnary),
  LARGE_UNARY(AbstractInteropTest::largeUnary),
  CLIENT_STREAMING(AbstractInteropTest::clientStreaming),
  SERVER_STREAMING(AbstractInteropTest::serverStreaming),
  PING_PONG(AbstractInteropTest::pingPong),
  EMPTY_STREAM(AbstractInteropTest::emptyStream),
  CUSTOM_METADATA(AbstractInteropTest::customMetadata),
  STATUS_CODE_AND_MESSAGE(AbstractInteropTest::statusCodeAndMessage),
  SPECIAL_STATUS_MESSAGE(AbstractInteropTest::specialStatusMessage),
  UNIMPLEMENTED_METHOD(AbstractInteropTest::unimplementedMethod),
  UNIMPLEMENTED_SERVICE(AbstractInteropTest::unimplementedService),
  CANCEL_AFTER_BEGIN(AbstractInteropTest::cancelAfterBegin),
  CANCEL_AFTER_FIRST_RESPONSE(AbstractInteropTest::cancelAfterFirstResponse),
  TIMEOUT_ON_SLEEPING_SERVER(AbstractInteropTest::timeoutOnSleepingServer);

  /** One case method of AbstractInteropTest; they declare {@code throws Exception}. */
  @FunctionalInterface
  interface Body {
    void run(AbstractInteropTest test) throws Exception;
  }

  private final Body body;

  InteropCase(Body body) {
    this.body = body;
  }

  /** Runs the case's method on a test that is already set up. */
  void run(AbstractInteropTest test) throws Exception {
    body.run(test);
  }

  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
