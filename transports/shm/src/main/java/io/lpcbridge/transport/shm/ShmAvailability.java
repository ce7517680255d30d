package io.lpcbridge.transport.shm;

import io.lpcbridge.nativeio.Futex;
import io.lpcbridge.nativeio.MemFd;
import io.lpcbridge.nativeio.Mmap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Locale;
import java.util.Optional;
import org.newsclub.net.unix.AFSocket;
import org.newsclub.net.unix.AFSocketCapability;
import org.newsclub.net.unix.AFUNIXSocket;

/**
 * Whether the shm transport works here, asked once: Linux, junixsocket with file-descriptor passing
 * and peer credentials, and a sealed memfd that maps and takes a futex wake. Whatever fails first
 * is the cause {@link ShmTransportProvider#unavailabilityCause()} reports.
 */
final class ShmAvailability {
  private static final Throwable CAUSE = probe();

  private ShmAvailability() {}

  private static Throwable probe() {
    try {
      if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
        return new UnsupportedOperationException(
            "shm needs Linux (memfd, futex, SCM_RIGHTS); this is " + System.getProperty("os.name"));
      }
      if (!AFUNIXSocket.isSupported()) {
        try {
          AFSocket.ensureSupported();
        } catch (Throwable t) {
          return t;
        }
        return new UnsupportedOperationException("junixsocket reports no AF_UNIX support here");
      }
      for (AFSocketCapability c :
          new AFSocketCapability[] {AFSocketCapability.CAPABILITY_FILE_DESCRIPTORS, AFSocketCapability.CAPABILITY_PEER_CREDENTIALS}) {
        if (!AFSocket.supports(c)) {
          return new UnsupportedOperationException("junixsocket " + AFSocket.getVersion() + " lacks " + c + " here");
        }
      }
      Optional<Throwable> futex = Futex.unavailabilityCause();
      if (futex.isPresent()) {
        return futex.get();
      }
      int fd = MemFd.create("lpcbridge-shm-probe");
      try (Arena arena = Arena.ofConfined()) {
        MemFd.truncate(fd, SegmentDescriptor.PAGE);
        MemFd.addSeals(fd, MappedSegment.REQUIRED_SEALS | MemFd.SEAL_SEAL);
        MemorySegment s = Mmap.mapShared(fd, SegmentDescriptor.PAGE, arena);
        Futex.wake(s.asSlice(0, Integer.BYTES), 1);
      } finally {
        MemFd.close(fd);
      }
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  static Optional<Throwable> cause() {
    return Optional.ofNullable(CAUSE);
  }
}
