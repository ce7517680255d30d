package io.lpcbridge.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import org.junit.jupiter.api.Test;

class LibcTest {
  @Test
  void errnoIsCapturedAndNamed() throws Throwable {
    MethodHandle unlink = Libc.downcall("unlink", FunctionDescriptor.of(Libc.C_INT, Libc.C_POINTER));
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = Libc.newCallState(arena);
      int rc = (int) unlink.invokeExact(state, Libc.cString(arena, "/nonexistent/lpcbridge-test"));
      assertEquals(-1, rc);
      int errno = Libc.errno(state);
      assertEquals(Errno.ENOENT, errno);
      NativeException e = Libc.error("unlink(/nonexistent/lpcbridge-test)", errno);
      assertEquals("unlink(/nonexistent/lpcbridge-test) failed: ENOENT (No such file or directory)", e.getMessage());
      assertTrue(e.errno() == Errno.ENOENT);
    }
  }
}
