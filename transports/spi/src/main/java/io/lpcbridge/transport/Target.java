package io.lpcbridge.transport;

import java.util.Objects;

/**
 * Where to listen or connect: a URI-like string whose scheme picks the transport. Examples: {@code
 * tcp://host:port}, {@code unix:///path}, {@code unix:@abstract}, {@code shm://name}, {@code
 * socketpair:}, {@code grpc+unix:///path}.
 *
 * <p>{@link java.net.URI} is not used because it rejects forms the bridge needs ({@code
 * socketpair:} has an empty scheme-specific part, {@code unix:@name} is not hierarchical). Parsing
 * of the part after the scheme is up to each transport; the helpers here cover the two common
 * shapes, {@code //host:port} and a path.
 */
public final class Target {
  private final String scheme;
  private final String rest;

  private Target(String scheme, String rest) {
    this.scheme = scheme;
    this.rest = rest;
  }

  /**
   * Parses {@code scheme:rest}. The scheme is lower-cased and must match {@code
   * [a-z][a-z0-9+.-]*}.
   *
   * @throws IllegalArgumentException naming the problem and the text
   */
  public static Target parse(String text) {
    Objects.requireNonNull(text, "target");
    int colon = text.indexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(
          "target '" + text + "' has no scheme: write it as scheme:address, e.g. tcp://localhost:7000 or unix:///tmp/bridge.sock");
    }
    String scheme = text.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
    for (int i = 0; i < scheme.length(); i++) {
      char c = scheme.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z') || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '.' || c == '-'));
      if (!ok) {
        throw new IllegalArgumentException("target '" + text + "' has an invalid scheme '" + scheme + "'");
      }
    }
    return new Target(scheme, text.substring(colon + 1));
  }

  /** Builds {@code scheme:rest} from its parts. */
  public static Target of(String scheme, String rest) {
    return parse(scheme + ":" + rest);
  }

  public String scheme() {
    return scheme;
  }

  /** Everything after {@code scheme:}. */
  public String schemeSpecificPart() {
    return rest;
  }

  /** The same target under another scheme (e.g. {@code grpc+unix} to {@code unix}). */
  public Target withScheme(String newScheme) {
    return of(newScheme, rest);
  }

  /** A host and port from {@code //host:port}; IPv6 hosts are written {@code [::1]}. */
  public record HostPort(String host, int port) {
    @Override
    public String toString() {
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }
  }

  /**
   * Parses {@code //host:port}. A missing port is an error unless {@code defaultPort >= 0}.
   *
   * @throws IllegalArgumentException naming the problem and the target
   */
  public HostPort hostPort(int defaultPort) {
    if (!rest.startsWith("//")) {
      throw bad("expected //host:port after '" + scheme + ":'");
    }
    String authority = rest.substring(2);
    int slash = authority.indexOf('/');
    if (slash >= 0) {
      if (slash != authority.length() - 1) {
        throw bad("a " + scheme + " target takes no path");
      }
      authority = authority.substring(0, slash);
    }
    String host;
    String portText;
    if (authority.startsWith("[")) {
      int close = authority.indexOf(']');
      if (close < 0) {
        throw bad("unclosed '[' in IPv6 host");
      }
      host = authority.substring(1, close);
      String after = authority.substring(close + 1);
      if (after.isEmpty()) {
        portText = null;
      } else if (after.startsWith(":")) {
        portText = after.substring(1);
      } else {
        throw bad("unexpected '" + after + "' after IPv6 host");
      }
    } else {
      int colon = authority.lastIndexOf(':');
      if (colon >= 0 && authority.indexOf(':') != colon) {
        throw bad("an IPv6 host must be written in brackets, e.g. [::1]:7000");
      }
      host = colon >= 0 ? authority.substring(0, colon) : authority;
      portText = colon >= 0 ? authority.substring(colon + 1) : null;
    }
    if (host.isEmpty()) {
      throw bad("the host is empty");
    }
    int port;
    if (portText == null || portText.isEmpty()) {
      if (defaultPort < 0) {
        throw bad("the port is missing");
      }
      port = defaultPort;
    } else {
      try {
        port = Integer.parseInt(portText);
      } catch (NumberFormatException e) {
        throw bad("the port '" + portText + "' is not a number");
      }
      if (port < 0 || port > 65535) {
        throw bad("the port " + port + " is out of range 0..65535");
      }
    }
    return new HostPort(host, port);
  }

  /**
   * The path of {@code scheme:///path} or {@code scheme:/path}, or the name of {@code scheme:@name}
   * including its leading {@code @} (the Linux abstract namespace).
   */
  public String path() {
    String p;
    if (rest.startsWith("@")) {
      p = rest;
    } else if (rest.startsWith("///")) {
      p = rest.substring(2);
    } else if (rest.startsWith("//")) {
      throw bad("a path target is written " + scheme + ":///absolute/path (three slashes) or " + scheme + ":@name");
    } else {
      p = rest;
    }
    if (p.isEmpty() || p.equals("@")) {
      throw bad("the path is empty");
    }
    return p;
  }

  /**
   * The authority a client names in its calls by default, as gRPC's {@code :authority}: the
   * {@code host:port} (or name) after {@code //} when the target has one ({@code tcp://h:7000}
   * gives {@code h:7000}, {@code shm://kv} gives {@code kv}), else {@code localhost}, as grpc-java
   * uses for Unix sockets. Never the whole target: that of {@code pipe:} or {@code socketpair:} is a
   * command line, kilobytes long, which would travel with every call.
   */
  public String authority() {
    if (rest.startsWith("//")) {
      int end = 2;
      while (end < rest.length() && rest.charAt(end) != '/' && rest.charAt(end) != '?') {
        end++;
      }
      if (end > 2) {
        return rest.substring(2, end);
      }
    }
    return "localhost";
  }

  private IllegalArgumentException bad(String what) {
    return new IllegalArgumentException("target '" + this + "': " + what);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Target t && t.scheme.equals(scheme) && t.rest.equals(rest);
  }

  @Override
  public int hashCode() {
    return scheme.hashCode() * 31 + rest.hashCode();
  }

  @Override
  public String toString() {
    return scheme + ":" + rest;
  }
}
