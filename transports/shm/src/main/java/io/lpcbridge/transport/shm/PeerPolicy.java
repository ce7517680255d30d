package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.PeerCredentials;
import java.util.Set;

/**
 * Who may be on the other end, by the credentials the kernel reports for the rendezvous socket
 * (SO_PEERCRED): this process's own user, root (which can read any process's memory anyway), and
 * the users of the {@code allowUids} option. Servers apply it to clients, and clients to servers,
 * so a process of another user that took the rendezvous socket's name is refused too.
 */
record PeerPolicy(long ownUid, Set<Long> allowUids) {

  boolean admits(PeerCredentials peer) {
    return peer.uid() == ownUid || peer.uid() == 0 || allowUids.contains(peer.uid());
  }

  /** Why {@code peer} is refused, for error messages. */
  String refusal(PeerCredentials peer, String role) {
    return role + " pid " + peer.pid() + " runs as uid " + peer.uid() + ", but only uid " + ownUid
        + (allowUids.isEmpty() ? "" : ", root and allowUids " + allowUids)
        + (allowUids.isEmpty() ? " and root are admitted (list other users in the transport option allowUids)" : " are admitted");
  }
}
