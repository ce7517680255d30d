package io.lpcbridge.bench;

import java.util.Locale;

/** The call kinds swept by the benchmark. */
enum Kind {
  /** Unary round trips (Echo/Say); latency per call. */
  UNARY("unary", true),
  /** Server-streaming throughput (Echo/Expand); messages/s from server to client. */
  SERVER_STREAM("server-stream", false),
  /** Client-streaming throughput (Echo/Collect); messages/s from client to server. */
  CLIENT_STREAM("client-stream", false),
  /** Bidi ping-pong (Echo/Chat): one message each way on a long-lived stream; latency per exchange. */
  BIDI("bidi", true);

  private final String label;
  private final boolean latency;

  Kind(String label, boolean latency) {
    this.label = label;
    this.latency = latency;
  }

  String label() {
    return label;
  }

  /** Whether this kind is measured as latency per exchange (else as throughput). */
  boolean isLatency() {
    return latency;
  }

  static Kind parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    for (Kind k : values()) {
      if (k.label.equals(t) || k.name().equalsIgnoreCase(t)) {
        return k;
      }
    }
    throw new IllegalArgumentException("unknown kind '" + s + "'; known: unary, server-stream, client-stream, bidi");
  }
}
