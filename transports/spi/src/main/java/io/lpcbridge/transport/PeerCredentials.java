package io.lpcbridge.transport;

/**
 * Who is on the other end of a local connection, as the kernel reports it (SO_PEERCRED).
 *
 * @param pid the peer's process id, or -1 when the kernel did not say
 * @param uid the peer's effective user id
 * @param gid the peer's effective group id
 */
public record PeerCredentials(long pid, long uid, long gid) {}
