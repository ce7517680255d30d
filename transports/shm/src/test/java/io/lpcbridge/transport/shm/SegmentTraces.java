package io.lpcbridge.transport.shm;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/** What a connection's segment leaves behind in this process and on the host, for the fault tests. */
final class SegmentTraces {
  private SegmentTraces() {}

  /** Lines of /proc/self/maps that map a segment of the listener named {@code name}. */
  static List<String> mappings(String name) throws IOException {
    String marker = "memfd:lpcbridge-shm:" + name + ":";
    return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains(marker)).toList();
  }

  /** Open descriptors of this process that are segments of the listener named {@code name}. */
  static List<String> descriptors(String name) throws IOException {
    String marker = "memfd:lpcbridge-shm:" + name + ":";
    List<String> found = new ArrayList<>();
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          String link = Files.readSymbolicLink(fd).toString();
          if (link.contains(marker)) {
            found.add(fd.getFileName() + " -> " + link);
          }
        } catch (IOException e) {
          // Closed while listing.
        }
      }
    }
    return found;
  }

  /** The names in /dev/shm. */
  static Set<String> devShm() throws IOException {
    Set<String> names = new TreeSet<>();
    Path dir = Path.of("/dev/shm");
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
        for (Path e : entries) {
          names.add(e.getFileName().toString());
        }
      }
    }
    return names;
  }
}
