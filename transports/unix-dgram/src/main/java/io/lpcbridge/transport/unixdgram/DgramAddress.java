package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.Target;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * A Unix datagram socket address: a path ({@code /run/x.sock}) or a name in Linux's abstract
 * namespace ({@code @name}), written the same way in targets and in handshake datagrams.
 *
 * @param path the absolute path, or null
 * @param abstractName the name without {@code @}, or null
 */
record DgramAddress(Path path, String abstractName) {
  /** sun_path is 108 bytes; an abstract name also spends one on its leading NUL. */
  static final int MAX_BYTES = 107;

  /** Parses {@code unix+dgram:///path}, {@code unix+dgram:/path} or {@code unix+dgram:@name}. */
  static DgramAddress of(Target target) {
    try {
      return parse(target.path());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("target '" + target + "': " + e.getMessage(), e);
    }
  }

  /** Parses {@code /path} or {@code @name} (as carried in a handshake). */
  static DgramAddress parse(String text) {
    DgramAddress a =
        text.startsWith("@")
            ? new DgramAddress(null, text.substring(1))
            : new DgramAddress(Path.of(text).toAbsolutePath().normalize(), null);
    if (a.isAbstract() && a.abstractName.isEmpty()) {
      throw new IllegalArgumentException("the abstract name after '@' is empty");
    }
    if (a.describe().getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      throw new IllegalArgumentException(
          "the address " + a.describe() + " is longer than the " + MAX_BYTES + " bytes a Unix socket address holds");
    }
    return a;
  }

  boolean isAbstract() {
    return abstractName != null;
  }

  AFUNIXSocketAddress socketAddress() throws SocketException {
    return isAbstract() ? AFUNIXSocketAddress.inAbstractNamespace(abstractName) : AFUNIXSocketAddress.of(path);
  }

  Target target() {
    return Target.of(UnixDgramTransportProvider.SCHEME, isAbstract() ? "@" + abstractName : "//" + path);
  }

  /** {@code /path} or {@code @name}. */
  String describe() {
    return isAbstract() ? "@" + abstractName : path.toString();
  }
}
