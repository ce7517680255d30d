package io.lpcbridge.transport;

import java.nio.ByteBuffer;

/**
 * Receives what arrives on a {@link Connection}. Passed to {@link Connection#start} once.
 *
 * <h2>Threading</h2>
 *
 * <ul>
 *   <li>{@link #onMessage} is called by a transport thread, or by a thread inside {@link
 *       Connection#receiveInline}, never by two threads at once, in the
 *       order the peer sent the messages. While it runs, the connection reads nothing more: a slow
 *       handler is how a receiver pushes back on its sender.
 *   <li>{@link #onWritable} may be called from any thread, including a thread inside {@link
 *       Connection#send}.
 *   <li>{@link #onClosed} is called exactly once, after the last {@link #onMessage}, and after it
 *       nothing else is called.
 * </ul>
 *
 * Handlers must not block for long in any callback: blocking in {@code onMessage} stalls every
 * call multiplexed on the connection. A handler that throws from {@code onMessage} fails the
 * connection: the transport closes it and reports the exception to {@link #onClosed}.
 */
public interface MessageHandler {

  /**
   * One whole message, as the peer passed it to {@link Connection#send}.
   *
   * @param message the message between position and limit. It is valid only until this method
   *     returns: the transport reuses the memory (a socket read buffer, a slot of a shared-memory
   *     ring) for what comes next. Copy what must outlive the call. The handler may move the
   *     buffer's position and limit.
   */
  void onMessage(ByteBuffer message);

  /**
   * The connection became writable again after {@link Connection#isWritable()} returned false.
   * Called at most once per such change.
   */
  default void onWritable() {}

  /**
   * The connection is closed and will deliver nothing more.
   *
   * @param cause null when it closed in order (this side called {@link Connection#close()}, or the
   *     peer closed its end); otherwise what went wrong: the peer died, the channel failed, or the
   *     peer broke the framing (for example a length over {@code maxMessageSize}). Null does not
   *     prove the peer meant to close: the kernel closes a killed process's sockets, which often
   *     looks orderly. A protocol above that must tell a crash from a shutdown says goodbye itself
   *     (the bridge's GOAWAY).
   */
  void onClosed(Throwable cause);
}
