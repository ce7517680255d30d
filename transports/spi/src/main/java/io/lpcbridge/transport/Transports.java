package io.lpcbridge.transport;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The registry of {@link TransportProvider}s on the class path.
 *
 * <p>A transport can be switched off with the system property {@code
 * bridge.transport.<name>.disabled=true}; it is then reported unavailable, with that property as
 * the cause, as netty does for its native transports.
 */
public final class Transports {

  /** One row of the availability report. */
  public record Report(TransportProvider provider, boolean available, Optional<Throwable> cause) {
    public String name() {
      return provider.name();
    }
  }

  private static volatile List<TransportProvider> providers;

  private Transports() {}

  /** All providers on the class path, in name order. */
  public static List<TransportProvider> providers() {
    List<TransportProvider> p = providers;
    if (p == null) {
      synchronized (Transports.class) {
        p = providers;
        if (p == null) {
          List<TransportProvider> found = new ArrayList<>();
          for (TransportProvider tp : ServiceLoader.load(TransportProvider.class, Transports.class.getClassLoader())) {
            found.add(tp);
          }
          found.sort(Comparator.comparing(TransportProvider::name));
          providers = p = List.copyOf(found);
        }
      }
    }
    return p;
  }

  /** The system property that switches the named transport off. */
  public static String disableProperty(String name) {
    return "bridge.transport." + name + ".disabled";
  }

  /** Availability of one provider, honouring the disable property. */
  public static Report report(TransportProvider provider) {
    if (Boolean.getBoolean(disableProperty(provider.name()))) {
      return new Report(
          provider,
          false,
          Optional.of(new IllegalStateException("disabled by system property " + disableProperty(provider.name()) + "=true")));
    }
    boolean available = provider.isAvailable();
    return new Report(provider, available, available ? Optional.empty() : provider.unavailabilityCause());
  }

  /** Availability of every provider, in name order. */
  public static List<Report> report() {
    return providers().stream().map(Transports::report).toList();
  }

  /** The provider claiming {@code scheme}, available or not. */
  public static Optional<TransportProvider> find(String scheme) {
    for (TransportProvider p : providers()) {
      if (p.schemes().contains(scheme)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /**
   * The available provider for {@code target}'s scheme.
   *
   * @throws TransportUnavailableException naming the scheme and either the known schemes or why the
   *     transport is unavailable
   */
  public static TransportProvider forTarget(Target target) throws TransportUnavailableException {
    TransportProvider p =
        find(target.scheme())
            .orElseThrow(
                () ->
                    new TransportUnavailableException(
                        "no transport for scheme '" + target.scheme() + "' in target '" + target
                            + "'; known schemes: " + knownSchemes().keySet()
                            + " (is the transport's module on the class path?)",
                        null));
    Report r = report(p);
    if (!r.available()) {
      Throwable cause = r.cause().orElse(null);
      throw new TransportUnavailableException(
          "transport " + p.name() + " for '" + target + "' is not available here"
              + (cause != null ? ": " + cause.getMessage() : ""),
          cause);
    }
    return p;
  }

  /** Scheme to provider name, for messages and {@code bridge transports}. */
  public static Map<String, String> knownSchemes() {
    Map<String, String> m = new TreeMap<>();
    for (TransportProvider p : providers()) {
      for (String s : p.schemes()) {
        m.put(s, p.name());
      }
    }
    return m;
  }

  /** Looks up the transport and connects; see {@link TransportProvider#connect}. */
  public static Connection connect(Target target, TransportOptions options) throws IOException {
    return forTarget(target).connect(target, options);
  }

  /** Looks up the transport and binds; see {@link TransportProvider#listen}. */
  public static Listener listen(Target target, TransportOptions options) throws IOException {
    return forTarget(target).listen(target, options);
  }
}
