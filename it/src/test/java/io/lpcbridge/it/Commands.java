package io.lpcbridge.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs short administrative commands ({@code ip}, {@code nft}) with a bound on their time. */
final class Commands {
  static final long TIMEOUT_SECONDS = 20;

  private Commands() {}

  /** The command's output; fails, quoting the command and what it printed, on a non-zero exit or timeout. */
  static String run(List<String> command) {
    Result r = tryRun(command);
    if (r.exit != 0) {
      throw new IllegalStateException("'" + String.join(" ", command) + "' exited " + r.exit + ": " + r.output.strip());
    }
    return r.output;
  }

  static String run(String... command) {
    return run(List.of(command));
  }

  record Result(int exit, String output) {}

  /** Exit code and combined output; a timeout reports exit -1. */
  static Result tryRun(List<String> command) {
    List<String> cmd = new ArrayList<>(command);
    cmd.set(0, Requirements.executable(cmd.get(0)).map(Object::toString).orElse(cmd.get(0)));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(new java.io.File("/dev/null")).start();
      // Administrative commands print little; reading to EOF ends when the command does.
      StringBuilder out = new StringBuilder();
      Thread reader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
                    } catch (IOException ignored) {
                      // the process was killed; its output so far is all there is
                    }
                  });
      if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        return new Result(-1, "timed out after " + TIMEOUT_SECONDS + " s");
      }
      // join() orders the reader's append before this read.
      reader.join(TimeUnit.SECONDS.toMillis(5));
      return new Result(p.exitValue(), out.toString());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + cmd, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + cmd, e);
    }
  }
}
