package io.lpcbridge.core;

import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;

/**
 * Events of one call on a {@link WireSession}, for the client or server call layer above.
 *
 * <h2>Threading</h2>
 *
 * Called without locks held, one callback at a time per stream, in protocol order: on the
 * transport's reader thread, or on the thread that called {@link WireStream#request} when that
 * released buffered messages. Callbacks must not block: they hand work to the call's executor.
 * A listener with a {@link #deliveryExecutor} gets its messages, half-close and trailers there
 * instead, and may run the application's code in those callbacks directly.
 *
 * <h2>Order</h2>
 *
 * {@code onHeaders} (client, at most once) precedes messages; {@code onMessage} is called only as
 * {@link WireStream#request} allowed; the stream ends with exactly one of {@code onTrailers}
 * (client), or {@code onReset}. On the server, {@code onHalfClose} follows the last message and
 * the stream ends when the server sends trailers or {@code onReset} is called.
 */
public interface StreamListener {

  /**
   * Where the stream delivers messages ({@link #onHeldMessage}), {@link #onHalfClose} and {@link
   * #onTrailers}: a serial executor of the listener's, which then runs the application's callbacks
   * in place, or null (the default) for the thread that has them (see Threading). On one, the
   * stream delivers a run of messages in one task, and a {@link WireStream#request} from inside a
   * callback only adds to the demand of the delivery under way. It must run tasks one at a time,
   * in order; not an executor whose tasks wait for a thread that is itself waiting for the call's
   * trailers (grpc-java's blocking stub, whose thread reads the answer itself).
   */
  default Executor deliveryExecutor() {
    return null;
  }

  /** Response headers from the server. Client streams only. */
  default void onHeaders(Metadata headers) {}

  /**
   * One message payload. Valid only during the call: parse it (or copy it) before returning.
   */
  void onMessage(ByteBuffer message);

  /**
   * A message that arrived before the application asked for it: returns what the stream keeps in
   * its place until then, and hands to {@link #onHeldMessage}. The call layers return the parsed
   * message, so the bytes are read once, straight from the transport's buffer, and not copied
   * first. Called on the reader thread, in order; the payload is valid only during the call. The
   * default keeps a copy of the bytes.
   */
  default Object hold(ByteBuffer message) {
    byte[] copy = new byte[message.remaining()];
    message.get(message.position(), copy);
    return copy;
  }

  /**
   * Delivers a message {@link #hold} kept, now that the application asked for it.
   *
   * @param size the message's payload length in bytes
   */
  default void onHeldMessage(Object held, int size) {
    onMessage(ByteBuffer.wrap((byte[]) held));
  }

  /** The client sent its last message. Server streams only; after the last {@code onMessage}. */
  default void onHalfClose() {}

  /** The server ended the call with this status. Client streams only; the last callback. */
  default void onTrailers(Status status, Metadata trailers) {}

  /**
   * The call is over without trailers: the peer cancelled it, the connection failed or is going
   * away, or the peer broke flow control. Buffered messages are dropped. The last callback.
   */
  void onReset(Status status);

  /** {@link WireStream#isReady()} may have turned true. */
  default void onReady() {}
}
