package io.lpcbridge.transport.unix;

import io.lpcbridge.transport.PeerCredentials;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * The {@code mode} option: who may connect to a listener, as octal file permission bits ({@code
 * 0600} by default: only the owner).
 *
 * <p>For a path socket the bits are set on the socket file, where the kernel enforces them:
 * connecting needs write permission on the file. {@link #admits} applies the same rule to the
 * credentials of an accepted peer; the listener uses it on every connection to cover what the file
 * cannot: the moment between bind and chmod, and abstract names, which have no file at all.
 */
record AccessMode(int bits) {
  static final String OPTION = "mode";
  static final AccessMode DEFAULT = new AccessMode(0600);

  private static final int OWNER_WRITE = 0200;
  private static final int GROUP_WRITE = 0020;
  private static final int OTHER_WRITE = 0002;

  AccessMode {
    if (bits < 0 || bits > 0777) {
      throw new IllegalArgumentException(
          "transport option mode=" + Integer.toOctalString(bits) + " is not a file mode between 0000 and 0777");
    }
  }

  /** Parses an octal mode such as {@code 0660} or {@code 660}; null gives the default. */
  static AccessMode parse(String text) {
    if (text == null) {
      return DEFAULT;
    }
    String t = text.trim();
    if (t.isEmpty() || !t.chars().allMatch(c -> c >= '0' && c <= '7') || t.length() > 4) {
      throw new IllegalArgumentException(
          "transport option mode='" + text + "' is not an octal file mode such as 0600 or 0660");
    }
    return new AccessMode(Integer.parseInt(t, 8));
  }

  Set<PosixFilePermission> permissions() {
    Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
    PosixFilePermission[] order = {
      PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_EXECUTE,
      PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE,
      PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE
    };
    for (int i = 0; i < order.length; i++) {
      if ((bits & (0400 >> i)) != 0) {
        set.add(order[i]);
      }
    }
    return set;
  }

  /**
   * Whether a peer may connect to a socket with this mode owned by {@code ownerUid:ownerGid}, by the
   * kernel's rule for files: root always; the owner by the owner bits; a member of the group by the
   * group bits; anyone else by the other bits.
   *
   * @param inGroup whether the peer belongs to a group id, beyond its primary one (supplementary
   *     groups); asked only when the group bits would decide
   */
  boolean admits(PeerCredentials peer, long ownerUid, long ownerGid, LongPredicate inGroup) {
    if (peer.uid() == 0) {
      return true;
    }
    if (peer.uid() == ownerUid) {
      return (bits & OWNER_WRITE) != 0;
    }
    boolean groupMay = (bits & GROUP_WRITE) != 0;
    boolean othersMay = (bits & OTHER_WRITE) != 0;
    // Supplementary groups cost a look-up; they matter only when group and others differ.
    boolean member = peer.gid() == ownerGid || (groupMay != othersMay && inGroup.test(ownerGid));
    return member ? groupMay : othersMay;
  }

  @Override
  public String toString() {
    return String.format("%04o", bits);
  }
}
