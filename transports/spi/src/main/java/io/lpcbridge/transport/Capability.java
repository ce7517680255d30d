package io.lpcbridge.transport;

/**
 * What a transport does natively. The RPC layer and the conformance suite ask for capabilities
 * instead of testing for particular transports; a test that needs one the transport lacks is
 * skipped by assumption, with the reason printed.
 *
 * <p>Every transport, whatever its capabilities, keeps the {@link Connection} contract: reliable,
 * ordered, whole messages. Capabilities describe how it gets there and what else it offers.
 */
public enum Capability {
  /** The peer may be on another host (tcp, udp, grpc). Without it, the peer is on this host. */
  CROSS_HOST,
  /** The underlying channel keeps message boundaries itself (datagrams, message queues, rings). */
  MESSAGE_BOUNDARIES,
  /** Received messages are handed over in place, without a copy out of the transport's memory. */
  ZERO_COPY,
  /** File descriptors can be passed to the peer (SCM_RIGHTS). */
  FD_PASSING,
  /** The peer's pid, uid and gid are known ({@link Connection#peerCredentials()}). */
  PEER_CREDENTIALS,
  /**
   * A thread waiting for a reply can receive it itself ({@link Connection#receiveInline}), with no
   * hand-off from the transport's reader thread (shm, unix, unix+dgram, socketpair, pipe, fifo,
   * mq, and tcp and udp with {@code io=jdk}).
   */
  INLINE_RECEIVE,
  /** The client end launches its peer as a child process (socketpair, pipe). */
  SPAWNS_PEER,
  /**
   * The transport is itself a complete RPC protocol (gRPC over HTTP/2). The bridge serves and dials
   * it natively rather than running its own wire protocol over it; the {@link Connection} it offers
   * is a tunnel, kept for the conformance suite and as a reference.
   */
  NATIVE_RPC
}
