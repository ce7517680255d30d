package io.lpcbridge.cli;

/**
 * A failure the command line reports as one line on stderr, with its exit code: {@link #USAGE}
 * for what the user asked wrongly (unknown method, malformed JSON, bad option), {@link #FAILURE}
 * for what went wrong doing it (address in use, server unreachable).
 */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  static final int FAILURE = 1;
  static final int USAGE = 2;

  private final int exitCode;

  CliException(int exitCode, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  static CliException usage(String message) {
    return new CliException(USAGE, message);
  }

  static CliException failure(String message) {
    return new CliException(FAILURE, message);
  }

  int exitCode() {
    return exitCode;
  }

  /**
   * The message of {@code t} followed by those of its causes that add something, e.g. netty's
   * "Failed to bind to address /127.0.0.1:7001: Address already in use".
   */
  static String messageOf(Throwable t) {
    StringBuilder b = new StringBuilder(t.getMessage() != null ? t.getMessage() : t.toString());
    int depth = 0;
    for (Throwable c = t.getCause(); c != null && depth < 5; c = c.getCause(), depth++) {
      String m = c.getMessage();
      if (m != null && !b.toString().contains(m)) {
        b.append(": ").append(m);
      }
    }
    return b.toString();
  }
}
