package io.lpcbridge.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Arrays;
import java.util.List;

/** Runs the command line in this JVM, as a user would from the shell, and keeps what it printed. */
record Cli(int exit, String out, String err) {
  static Cli run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = BridgeCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true), false);
    return new Cli(exit, out.toString(), err.toString());
  }

  /** The non-empty lines of stdout. */
  List<String> lines() {
    return Arrays.stream(out.split("\n")).filter(l -> !l.isBlank()).toList();
  }

  @Override
  public String toString() {
    return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
  }
}
