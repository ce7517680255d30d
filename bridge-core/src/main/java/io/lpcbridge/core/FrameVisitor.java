package io.lpcbridge.core;

import java.nio.ByteBuffer;

/** Receives the frames {@link FrameReader} finds in a transport message. */
interface FrameVisitor {
  /**
   * One frame.
   *
   * @param payload exactly the frame's payload; valid only during the call
   */
  void onFrame(byte type, byte flags, int streamId, ByteBuffer payload) throws ProtocolException;
}
