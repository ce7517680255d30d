package io.lpcbridge.transport.unix;

import io.lpcbridge.transport.PeerCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Decides, from its credentials, whether an accepted peer may stay: the listener's {@link
 * AccessMode} applied as if to a file owned by {@code ownerUid:ownerGid}.
 */
final class PeerAdmission {
  private final AccessMode mode;
  private final long ownerUid;
  private final long ownerGid;

  private PeerAdmission(AccessMode mode, long ownerUid, long ownerGid) {
    this.mode = mode;
    this.ownerUid = ownerUid;
    this.ownerGid = ownerGid;
  }

  /** For a path socket: the owner and group of the socket file, as the kernel sees them. */
  static PeerAdmission forFile(Path socketFile, AccessMode mode) throws IOException {
    return new PeerAdmission(
        mode,
        ((Number) Files.getAttribute(socketFile, "unix:uid")).longValue(),
        ((Number) Files.getAttribute(socketFile, "unix:gid")).longValue());
  }

  /**
   * For an abstract name: this process's effective uid and gid, which own {@code /proc/self}.
   * Abstract names exist only on Linux, so {@code /proc} is there.
   */
  static PeerAdmission forThisProcess(AccessMode mode) throws IOException {
    return forFile(Path.of("/proc/self"), mode);
  }

  boolean admits(PeerCredentials peer) {
    return mode.admits(peer, ownerUid, ownerGid, gid -> inSupplementaryGroup(peer.pid(), gid));
  }

  AccessMode mode() {
    return mode;
  }

  /**
   * Whether process {@code pid} has {@code gid} among its groups, from the {@code Groups:} line of
   * {@code /proc/<pid>/status} (SO_PEERCRED gives only the primary group). False when unknown.
   */
  static boolean inSupplementaryGroup(long pid, long gid) {
    if (pid <= 0) {
      return false;
    }
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"), StandardCharsets.UTF_8)) {
        if (line.startsWith("Groups:")) {
          for (String g : line.substring("Groups:".length()).trim().split("\\s+")) {
            if (!g.isEmpty() && Long.parseLong(g) == gid) {
              return true;
            }
          }
          return false;
        }
      }
    } catch (IOException | RuntimeException e) {
      // The peer may be gone already, or /proc hidden from us: not a member, as far as we know.
    }
    return false;
  }
}
