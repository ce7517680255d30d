package io.lpcbridge.transport.unix;

import io.lpcbridge.transport.Target;
import java.net.SocketException;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXSocketAddress;

/**
 * Where a unix socket lives: a path in the file system ({@code unix:///path}) or a name in Linux's
 * abstract namespace ({@code unix:@name}), which has no file, no permissions and vanishes with the
 * last socket bound to it.
 *
 * @param path the absolute socket path, or null for an abstract name
 * @param abstractName the name without its {@code @}, or null for a path
 */
record UnixAddress(Path path, String abstractName) {

  /**
   * Parses {@code unix:///path}, {@code unix:/path}, {@code unix:relative/path} (made absolute) or
   * {@code unix:@name}.
   *
   * @throws IllegalArgumentException naming the problem and the target
   */
  static UnixAddress of(Target target) {
    String p = target.path();
    if (p.startsWith("@")) {
      return new UnixAddress(null, p.substring(1));
    }
    return new UnixAddress(Path.of(p).toAbsolutePath().normalize(), null);
  }

  boolean isAbstract() {
    return abstractName != null;
  }

  AFUNIXSocketAddress socketAddress() throws SocketException {
    return isAbstract() ? AFUNIXSocketAddress.inAbstractNamespace(abstractName) : AFUNIXSocketAddress.of(path);
  }

  /** The canonical target: {@code unix:///absolute/path} or {@code unix:@name}. */
  Target target() {
    return Target.of(UnixTransportProvider.SCHEME, isAbstract() ? "@" + abstractName : "//" + path);
  }

  /** The path, or {@code @name}, as people write it in messages. */
  String describe() {
    return isAbstract() ? "@" + abstractName : path.toString();
  }

  @Override
  public String toString() {
    return target().toString();
  }
}
