package io.lpcbridge.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MemFdTest {
  @Test
  void twoMappingsOfOneMemfdShareTheirBytes() throws Exception {
    int fd = MemFd.create("lpcbridge-memfd-test");
    try (Arena a = Arena.ofShared(); Arena b = Arena.ofShared()) {
      MemFd.truncate(fd, 8192);
      assertEquals(8192, MemFd.size(fd));
      MemorySegment first = Mmap.mapShared(fd, 8192, a);
      MemorySegment second = Mmap.mapShared(fd, 8192, b);
      assertTrue(first.address() != second.address(), "two distinct mappings");
      first.set(ValueLayout.JAVA_LONG, 4096, 0x1234_5678_9abc_def0L);
      assertEquals(0x1234_5678_9abc_def0L, second.get(ValueLayout.JAVA_LONG, 4096));
      String maps = Files.readString(Path.of("/proc/self/maps"));
      assertTrue(maps.contains("memfd:lpcbridge-memfd-test"), "the memfd's name shows in /proc/self/maps");
    } finally {
      MemFd.close(fd);
    }
    String maps = Files.readString(Path.of("/proc/self/maps"));
    assertTrue(!maps.contains("memfd:lpcbridge-memfd-test"), "closing the arenas unmapped the memfd");
  }

  @Test
  void sealsFixTheSize() throws Exception {
    int fd = MemFd.create("lpcbridge-seal-test");
    try {
      MemFd.truncate(fd, 4096);
      assertEquals(0, MemFd.seals(fd), "a fresh memfd has no seals");
      MemFd.addSeals(fd, MemFd.SEAL_SHRINK | MemFd.SEAL_GROW | MemFd.SEAL_SEAL);
      int seals = MemFd.seals(fd);
      assertEquals(MemFd.SEAL_SHRINK | MemFd.SEAL_GROW | MemFd.SEAL_SEAL, seals);
      NativeException shrink = assertThrows(NativeException.class, () -> MemFd.truncate(fd, 0));
      assertEquals(Errno.EPERM, shrink.errno(), shrink.getMessage());
      NativeException grow = assertThrows(NativeException.class, () -> MemFd.truncate(fd, 8192));
      assertEquals(Errno.EPERM, grow.errno());
      assertThrows(NativeException.class, () -> MemFd.addSeals(fd, MemFd.SEAL_WRITE), "F_SEAL_SEAL forbids more seals");
      assertEquals(4096, MemFd.size(fd));
    } finally {
      MemFd.close(fd);
    }
  }

  @Test
  void errorsNameTheCallAndErrno() {
    NativeException e = assertThrows(NativeException.class, () -> MemFd.close(-1));
    assertEquals(Errno.EBADF, e.errno());
    assertTrue(e.getMessage().startsWith("close(fd -1) failed: EBADF"), e.getMessage());
    assertThrows(NativeException.class, () -> Mmap.mapShared(-1, 4096, Arena.global()));
    assertThrows(IllegalArgumentException.class, () -> Mmap.mapShared(0, 0, Arena.global()));
  }

  @Test
  void currentCpuIsOneOfOurs() {
    int cpu = Sched.currentCpu();
    assertTrue(cpu >= 0 && cpu < Runtime.getRuntime().availableProcessors() * 64, "cpu " + cpu);
  }
}
