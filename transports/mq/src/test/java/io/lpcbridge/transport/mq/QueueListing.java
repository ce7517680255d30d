package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.MessageQueues;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The names of the message queues on this machine: from /dev/mqueue when it is mounted, else by
 * mounting the mqueue file system in a private mount namespace (root only; nothing changes outside
 * that namespace). Empty when neither works.
 */
final class QueueListing {
  private QueueListing() {}

  static Optional<List<String>> names() throws IOException, InterruptedException {
    if (Files.isDirectory(MessageQueues.MOUNT)) {
      try (Stream<Path> s = Files.list(MessageQueues.MOUNT)) {
        return Optional.of(s.map(p -> p.getFileName().toString()).sorted().toList());
      }
    }
    Path mnt = Files.createTempDirectory("mqview");
    try {
      Process p =
          new ProcessBuilder("unshare", "-m", "sh", "-c", "mount -t mqueue none '" + mnt + "' && ls -1 '" + mnt + "'")
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(20, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return Optional.empty();
      }
      return Optional.of(Arrays.stream(out.split("\n")).filter(l -> !l.isBlank()).sorted().toList());
    } catch (IOException e) {
      return Optional.empty();
    } finally {
      Files.deleteIfExists(mnt);
    }
  }

  /** The queues whose names start with {@code prefix}, or empty when the list cannot be had. */
  static Optional<List<String>> startingWith(String prefix) throws IOException, InterruptedException {
    return names().map(all -> all.stream().filter(n -> n.startsWith(prefix)).toList());
  }
}
