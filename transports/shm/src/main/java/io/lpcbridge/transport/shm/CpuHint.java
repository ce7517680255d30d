package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.Sched;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * Each reader thread publishes the CPU it last started waiting on (the Client Cpu and Server Cpu
 * words of {@link SegmentDescriptor}); {@link AdaptiveIdler} compares it with its own. Both words
 * are hints: stale or scribbled values only change how long a reader spins.
 */
final class CpuHint {
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final MemorySegment segment;
  private final long mineAt;
  private final long peersAt;

  CpuHint(MemorySegment segment, long mineAt, long peersAt) {
    this.segment = segment;
    this.mineAt = mineAt;
    this.peersAt = peersAt;
  }

  /** Publishes this thread's CPU and says whether the peer's reader last ran on the same one. */
  boolean peerSharesMyCpu() {
    int mine = Sched.currentCpu();
    // Opaque: a hint, needs no ordering with anything else.
    INT.setOpaque(segment, mineAt, mine);
    return mine >= 0 && (int) INT.getOpaque(segment, peersAt) == mine;
  }
}
