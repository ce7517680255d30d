package io.lpcbridge.core;

import java.util.ArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Corking: messages that a thread sends on a call while it runs a callback, after the first, wait
 * in the call's buffer and leave together when the callback returns. A handler that streams in a
 * loop then costs one transport message (one write system call, one wake-up of the peer) per
 * batch instead of one per message, while a callback that sends a single message (a bidi
 * answer) sends it at once, as without corking.
 *
 * <p>The scope is the thread, not the call: a callback of one call that sends on another (the
 * forwarding bridge relays each message it receives upstream to the downstream call) corks that
 * one too. Scopes nest; the outermost flushes. A stream also sends its batch when it is full,
 * when it would spend the rest of the call's flow-control credit, and after {@link
 * FlushTimer#DELAY_NANOS} if the callback is still running (see {@link WireStream}).
 */
public final class Cork {
  private static final Logger log = Logger.getLogger(Cork.class.getName());
  private static final ThreadLocal<Cork> CURRENT = new ThreadLocal<>();

  private int depth;
  /** Streams holding frames corked in this scope, each once. */
  private ArrayList<WireStream> streams = new ArrayList<>(2);

  private Cork() {}

  /** Runs {@code callback}, corking what it sends; flushes when the outermost scope returns. */
  public static void run(Runnable callback) {
    Cork c = CURRENT.get();
    if (c == null) {
      c = new Cork();
      CURRENT.set(c);
    }
    c.depth++;
    try {
      callback.run();
    } finally {
      if (--c.depth == 0) {
        c.flushAll();
      }
    }
  }

  /** The calling thread's scope if it is inside {@link #run}, else null. */
  static Cork current() {
    Cork c = CURRENT.get();
    return c != null && c.depth > 0 ? c : null;
  }

  void add(WireStream stream) {
    streams.add(stream);
  }

  private void flushAll() {
    // A flush can run callbacks that cork again (a transport turning writable calls onReady,
    // which a direct executor runs here): take the list first, then loop until it stays empty.
    while (!streams.isEmpty()) {
      ArrayList<WireStream> now = streams;
      streams = new ArrayList<>(2);
      for (WireStream s : now) {
        try {
          s.flushCorked(this);
        } catch (RuntimeException e) {
          // One stream's failure must not strand the others' messages.
          log.log(Level.WARNING, "flushing corked messages of " + s + " failed", e);
        }
      }
    }
  }
}
