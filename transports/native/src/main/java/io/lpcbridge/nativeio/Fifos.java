package io.lpcbridge.nativeio;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** Named pipes: {@code mkfifo(3)}. Opening, reading and writing them is {@link Fds}'. */
public final class Fifos {
  private static final MethodHandle MKFIFO =
      Libc.downcall("mkfifo", FunctionDescriptor.of(Libc.C_INT, Libc.C_POINTER, Libc.C_INT));

  private Fifos() {}

  /**
   * Creates a FIFO at {@code path} with permissions {@code mode} (less the umask, so never more
   * than {@code mode}).
   *
   * @throws NativeException {@code EEXIST} if something is already at {@code path}
   */
  public static void mkfifo(Path path, int mode) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      int rc = (int) MKFIFO.invokeExact(Fds.callState(), Libc.cString(arena, path.toString()), mode);
      if (rc < 0) {
        throw Libc.error("mkfifo(" + path + ", 0" + Integer.toOctalString(mode) + ")", Libc.errno(Fds.callState()));
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
  }
}
