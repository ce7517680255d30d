package io.lpcbridge.transport.unix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lpcbridge.transport.PeerCredentials;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.LongPredicate;
import org.junit.jupiter.api.Test;

class AccessModeTest {
  private static final long OWNER = 1000;
  private static final long GROUP = 100;
  private static final LongPredicate NO_GROUPS = gid -> false;

  @Test
  void parsesOctalWithOrWithoutTheLeadingZero() {
    assertEquals(0600, AccessMode.parse(null).bits());
    assertEquals(0660, AccessMode.parse("0660").bits());
    assertEquals(0660, AccessMode.parse("660").bits());
    assertEquals("rw-rw----", PosixFilePermissions.toString(AccessMode.parse("0660").permissions()));
    assertEquals("rwx---r-x", PosixFilePermissions.toString(AccessMode.parse("0705").permissions()));
  }

  @Test
  void refusesWhatIsNotAnOctalMode() {
    for (String bad : new String[] {"", "rw-------", "0800", "9", "01777", "-1"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AccessMode.parse(bad), bad);
      assertTrue(e.getMessage().contains("octal file mode"), e.getMessage());
    }
  }

  @Test
  void defaultAdmitsOnlyTheOwnerAndRoot() {
    AccessMode m = AccessMode.DEFAULT;
    assertTrue(m.admits(peer(OWNER, 5), OWNER, GROUP, NO_GROUPS));
    assertTrue(m.admits(peer(0, 0), OWNER, GROUP, NO_GROUPS));
    assertFalse(m.admits(peer(1001, GROUP), OWNER, GROUP, NO_GROUPS));
    assertFalse(m.admits(peer(1001, 7), OWNER, GROUP, NO_GROUPS));
  }

  @Test
  void groupWriteAdmitsThePrimaryAndSupplementaryGroup() {
    AccessMode m = AccessMode.parse("0660");
    assertTrue(m.admits(peer(1001, GROUP), OWNER, GROUP, NO_GROUPS));
    assertTrue(m.admits(peer(1001, 7), OWNER, GROUP, gid -> gid == GROUP));
    assertFalse(m.admits(peer(1001, 7), OWNER, GROUP, NO_GROUPS));
  }

  @Test
  void connectingNeedsTheWriteBitAsTheKernelRequires() {
    assertFalse(AccessMode.parse("0400").admits(peer(OWNER, GROUP), OWNER, GROUP, NO_GROUPS));
    assertFalse(AccessMode.parse("0640").admits(peer(1001, GROUP), OWNER, GROUP, NO_GROUPS));
    assertTrue(AccessMode.parse("0602").admits(peer(1001, 7), OWNER, GROUP, NO_GROUPS));
  }

  @Test
  void theMostSpecificClassDecidesEvenWhenItIsStricter() {
    // As for files: the owner is judged by the owner bits alone, a member by the group bits alone.
    assertFalse(AccessMode.parse("0066").admits(peer(OWNER, GROUP), OWNER, GROUP, NO_GROUPS));
    assertFalse(AccessMode.parse("0606").admits(peer(1001, GROUP), OWNER, GROUP, NO_GROUPS));
    assertFalse(AccessMode.parse("0606").admits(peer(1001, 7), OWNER, GROUP, gid -> true));
  }

  private static PeerCredentials peer(long uid, long gid) {
    return new PeerCredentials(4242, uid, gid);
  }
}
