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
 * WireStream#FLUSH_DELAY_NANOS} if the callback is still running (see {@link WireStream}).
 *
 * <p>Call layers open a scope around each callback with {@link #enter} and close it with {@link
 * #exit} in a {@code finally} block: no allocation per callback.
 */
public final class Cork {
  private static final Logger log = Logger.getLogger(Cork.class.getName());
  private static final ThreadLocal<Cork> CURRENT = ThreadLocal.withInitial(Cork::new);

  private int depth;
  /** Streams holding frames corked in this scope. */
  private final ArrayList<WireStream> streams = new ArrayList<>(2);

  private Cork() {}

  /** Opens a scope on the calling thread, or joins the one it is in. */
  public static Cork enter() {
    Cork c = CURRENT.get();
    c.depth++;
    return c;
  }

  /** Closes the scope {@link #enter} opened, on the same thread; the outermost flushes. */
  public void exit() {
    if (depth > 1) {
      depth--;
      return;
    }
    try {
      flushAll();
    } finally {
      depth = 0;
    }
  }

  /** Runs {@code callback} in a scope. */
  public static void run(Runnable callback) {
    Cork c = enter();
    try {
      callback.run();
    } finally {
      c.exit();
    }
  }

  /** The calling thread's scope if it is inside one, else null. */
  static Cork current() {
    Cork c = CURRENT.get();
    return c.depth > 0 ? c : null;
  }

  void add(WireStream stream) {
    streams.add(stream);
  }

  private void flushAll() {
    // The scope stays open meanwhile: a flush can run callbacks that send (a transport turning
    // writable calls onReady, which a direct executor runs here); what they cork joins the list
    // and this loop flushes it too.
    try {
      for (int i = 0; i < streams.size(); i++) {
        WireStream s = streams.get(i);
        try {
          s.flushCorked(this);
        } catch (RuntimeException e) {
          // One stream's failure must not strand the others' messages.
          log.log(Level.WARNING, "flushing corked messages of " + s + " failed", e);
        }
      }
    } finally {
      streams.clear();
    }
  }
}
