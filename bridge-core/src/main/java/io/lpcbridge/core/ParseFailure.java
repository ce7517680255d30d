package io.lpcbridge.core;

import io.grpc.MethodDescriptor;
import java.nio.ByteBuffer;

/**
 * A message that did not parse, kept in its place by a call layer's {@link StreamListener#hold}:
 * the messages before it are delivered first, and the call ends when this one's turn comes.
 */
public record ParseFailure(RuntimeException cause) {

  /**
   * The message {@code marshaller} parses from {@code payload}, read in place, or a ParseFailure
   * saying why it did not parse.
   */
  public static Object parse(MethodDescriptor.Marshaller<?> marshaller, ByteBuffer payload) {
    try {
      return marshaller.parse(new ByteBufferInputStream(payload));
    } catch (RuntimeException e) {
      return new ParseFailure(e);
    }
  }
}
