package io.lpcbridge.nativeio;

import java.io.IOException;

/** A libc call failed; carries errno, its symbolic name and the C library's description. */
public final class NativeException extends IOException {
  private static final long serialVersionUID = 1L;

  private final int errno;

  NativeException(String what, int errno) {
    super(what + " failed: " + Errno.name(errno) + " (" + Libc.strerror(errno) + ")");
    this.errno = errno;
  }

  public int errno() {
    return errno;
  }
}
