package io.lpcbridge.client;

import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.Transports;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Which target and transport options each named client and server uses: a YAML file, overridden
 * by environment variables, overridden in turn by system properties. Switching a program from one
 * transport to another is a change here, never in its code.
 *
 * <pre>
 * defaults:                       # transport options for every target
 *   connectTimeout: 5s
 * clients:
 *   kv:                           # BridgeConfig.load().channel("kv")
 *     target: unix:///run/kv.sock
 *     options: {maxMessageSize: 8m}
 * servers:
 *   kv:
 *     targets:
 *       - unix:///run/kv.sock
 *       - target: tcp://0.0.0.0:7000
 *         options: {writeHighWaterMark: 2m}
 * </pre>
 *
 * <h2>Overrides</h2>
 *
 * <ul>
 *   <li>The file: system property {@code bridge.config}, else environment variable {@code
 *       BRIDGE_CONFIG}, else {@code ./bridge.yaml} if it exists; a missing file is an empty
 *       configuration.
 *   <li>A client's target: {@code -Dbridge.clients.kv.target=...} or {@code
 *       BRIDGE_CLIENTS_KV_TARGET=...} (name upper-cased, {@code -} and {@code .} become {@code _}).
 *   <li>A client's option: {@code -Dbridge.clients.kv.options.connectTimeout=2s} or {@code
 *       BRIDGE_CLIENTS_KV_OPTIONS_CONNECTTIMEOUT=2s} (matched to a known option name ignoring
 *       case).
 *   <li>A server's targets: {@code -Dbridge.servers.kv.targets=unix:///a,tcp://0.0.0.0:7000} or
 *       {@code BRIDGE_SERVERS_KV_TARGETS=...}, comma-separated, replacing the file's list.
 * </ul>
 */
public final class BridgeConfig {
  /** A target and its options. */
  public record Endpoint(Target target, Map<String, String> options) {}

  /**
   * Where a server forwards calls for services it does not host: one or more hosts, balanced by
   * {@code loadBalancing} ({@code pick_first} or {@code round_robin}), optionally health-checked.
   *
   * @param healthCheck the health service name to check ("" for the whole server), or null for none
   */
  public record Forward(List<Target> targets, String loadBalancing, String healthCheck, Map<String, String> options) {
    /** A channel builder for the upstream. */
    public BridgeChannelBuilder channelBuilder() {
      BridgeChannelBuilder b = BridgeChannelBuilder.forTargets(targets).transportOptions(options);
      if (loadBalancing != null) {
        b.defaultLoadBalancingPolicy(loadBalancing);
      }
      if (healthCheck != null) {
        b.healthCheck(healthCheck, java.time.Duration.ofSeconds(1));
      }
      return b;
    }

    @Override
    public String toString() {
      return targets + (loadBalancing != null ? " (" + loadBalancing + ")" : "") + (healthCheck != null ? " health-checked" : "");
    }
  }

  private final Map<String, String> defaults;
  private final Map<String, Endpoint> clients;
  private final Map<String, List<Endpoint>> servers;
  private final Map<String, Forward> forwards;
  private final String source;

  private BridgeConfig(
      Map<String, String> defaults,
      Map<String, Endpoint> clients,
      Map<String, List<Endpoint>> servers,
      Map<String, Forward> forwards,
      String source) {
    this.defaults = defaults;
    this.clients = clients;
    this.servers = servers;
    this.forwards = forwards;
    this.source = source;
  }

  /** Loads from the default location with environment and system-property overrides. */
  public static BridgeConfig load() {
    String file = System.getProperty("bridge.config");
    if (file == null) {
      file = System.getenv("BRIDGE_CONFIG");
    }
    Path path = file != null ? Path.of(file) : Path.of("bridge.yaml");
    if (file != null && !Files.exists(path)) {
      throw new IllegalArgumentException("configuration file " + path + " (from " + (System.getProperty("bridge.config") != null ? "-Dbridge.config" : "BRIDGE_CONFIG") + ") does not exist");
    }
    return load(Files.exists(path) ? path : null, System.getenv(), System.getProperties());
  }

  /** Loads {@code file} (may be null) with the given overrides; for tests and tools. */
  public static BridgeConfig load(Path file, Map<String, String> env, java.util.Properties props) {
    Map<String, Object> root = Map.of();
    String source = "(no file)";
    if (file != null) {
      try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
        Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        root = parsed == null ? Map.of() : asMap(parsed, "the top level");
        source = file.toString();
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read configuration " + file + ": " + e.getMessage(), e);
      } catch (org.yaml.snakeyaml.error.YAMLException e) {
        throw new IllegalArgumentException("configuration " + file + " is not valid YAML: " + e.getMessage(), e);
      }
    }
    for (String key : root.keySet()) {
      if (!Set.of("defaults", "clients", "servers").contains(key)) {
        throw new IllegalArgumentException(
            "configuration " + source + ": unknown top-level key '" + key + "' (expected defaults, clients, servers)");
      }
    }
    Map<String, String> defaults = options(root.get("defaults"), "defaults");
    Map<String, Endpoint> clients = new LinkedHashMap<>();
    Map<String, Object> clientSection = root.get("clients") == null ? Map.of() : asMap(root.get("clients"), "clients");
    for (var e : clientSection.entrySet()) {
      clients.put(e.getKey(), endpoint(e.getValue(), "clients." + e.getKey()));
    }
    Map<String, List<Endpoint>> servers = new LinkedHashMap<>();
    Map<String, Forward> forwards = new LinkedHashMap<>();
    Map<String, Object> serverSection = root.get("servers") == null ? Map.of() : asMap(root.get("servers"), "servers");
    for (var e : serverSection.entrySet()) {
      Map<String, Object> s = asMap(e.getValue(), "servers." + e.getKey());
      for (String k : s.keySet()) {
        if (!k.equals("targets") && !k.equals("forward")) {
          throw new IllegalArgumentException(
              "configuration servers." + e.getKey() + ": unknown key '" + k + "' (expected targets, forward)");
        }
      }
      if (s.get("forward") != null) {
        forwards.put(e.getKey(), forward(s.get("forward"), "servers." + e.getKey() + ".forward"));
      }
      Object targets = s.get("targets");
      if (!(targets instanceof List<?> list)) {
        throw new IllegalArgumentException("configuration servers." + e.getKey() + ": 'targets' must be a list");
      }
      List<Endpoint> eps = new ArrayList<>();
      for (Object t : list) {
        eps.add(endpoint(t, "servers." + e.getKey() + ".targets"));
      }
      servers.put(e.getKey(), eps);
    }
    BridgeConfig c = new BridgeConfig(defaults, clients, servers, forwards, source);
    c.applyOverrides(env, props);
    return c;
  }

  private void applyOverrides(Map<String, String> env, java.util.Properties props) {
    Set<String> knownOptions = knownOptionNames();
    // Client names mentioned only in overrides become clients too.
    Set<String> names = new TreeSet<>(clients.keySet());
    for (String p : props.stringPropertyNames()) {
      if (p.startsWith("bridge.clients.") && p.endsWith(".target")) {
        names.add(p.substring("bridge.clients.".length(), p.length() - ".target".length()));
      }
    }
    for (String k : env.keySet()) {
      if (k.startsWith("BRIDGE_CLIENTS_") && k.endsWith("_TARGET") && k.length() > "BRIDGE_CLIENTS__TARGET".length()) {
        String envNamePart = k.substring("BRIDGE_CLIENTS_".length(), k.length() - "_TARGET".length());
        if (envNamePart.endsWith("_OPTIONS") || envNamePart.contains("_OPTIONS_")) {
          continue;
        }
        boolean known = names.stream().anyMatch(n -> envName(n).equals(envNamePart));
        if (!known) {
          // Only the environment names this client: its name is the variable's, lower-cased;
          // client() matches names through their environment form, so "kv-store" finds it.
          names.add(envNamePart.toLowerCase(Locale.ROOT));
        }
      }
    }
    for (String name : names) {
      String envPrefix = "BRIDGE_CLIENTS_" + envName(name) + "_";
      String propPrefix = "bridge.clients." + name + ".";
      Endpoint current = clients.get(name);
      String target = current == null ? null : current.target().toString();
      Map<String, String> opts = current == null ? new LinkedHashMap<>() : new LinkedHashMap<>(current.options());
      for (var e : env.entrySet()) {
        if (e.getKey().equals(envPrefix + "TARGET")) {
          target = e.getValue();
        } else if (e.getKey().startsWith(envPrefix + "OPTIONS_")) {
          String raw = e.getKey().substring((envPrefix + "OPTIONS_").length());
          opts.put(matchOption(raw, knownOptions), e.getValue());
        }
      }
      for (String p : props.stringPropertyNames()) {
        if (p.equals(propPrefix + "target")) {
          target = props.getProperty(p);
        } else if (p.startsWith(propPrefix + "options.")) {
          opts.put(p.substring((propPrefix + "options.").length()), props.getProperty(p));
        }
      }
      if (target != null) {
        clients.put(name, new Endpoint(Target.parse(target), Map.copyOf(opts)));
      }
    }
    for (String name : new ArrayList<>(servers.keySet())) {
      overrideServerTargets(name, env.get("BRIDGE_SERVERS_" + envName(name) + "_TARGETS"));
      overrideServerTargets(name, props.getProperty("bridge.servers." + name + ".targets"));
    }
    for (String p : props.stringPropertyNames()) {
      if (p.startsWith("bridge.servers.") && p.endsWith(".targets")) {
        String name = p.substring("bridge.servers.".length(), p.length() - ".targets".length());
        overrideServerTargets(name, props.getProperty(p));
      }
    }
    for (var e : env.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("BRIDGE_SERVERS_") && k.endsWith("_TARGETS")) {
        String envNamePart = k.substring("BRIDGE_SERVERS_".length(), k.length() - "_TARGETS".length());
        boolean known = servers.keySet().stream().anyMatch(n -> envName(n).equals(envNamePart));
        if (!known) {
          overrideServerTargets(envNamePart.toLowerCase(Locale.ROOT), e.getValue());
        }
      }
    }
  }

  private void overrideServerTargets(String name, String list) {
    if (list == null || list.isBlank()) {
      return;
    }
    List<Endpoint> eps = new ArrayList<>();
    for (String t : list.split(",")) {
      if (!t.isBlank()) {
        eps.add(new Endpoint(Target.parse(t.trim()), Map.of()));
      }
    }
    servers.put(name, eps);
  }

  private static Set<String> knownOptionNames() {
    Set<String> names = new TreeSet<>(TransportOptions.COMMON);
    for (TransportProvider p : Transports.providers()) {
      names.addAll(p.supportedOptions());
    }
    return names;
  }

  private static String matchOption(String envKey, Set<String> known) {
    String flat = envKey.replace("_", "");
    for (String k : known) {
      if (k.equalsIgnoreCase(flat) || k.equalsIgnoreCase(envKey)) {
        return k;
      }
    }
    throw new IllegalArgumentException(
        "environment override option '" + envKey + "' matches no known transport option " + known);
  }

  static String envName(String name) {
    return name.toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_');
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object o, String where) {
    if (!(o instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException("configuration " + where + ": expected a mapping, got " + describe(o));
    }
    return (Map<String, Object>) m;
  }

  private static String describe(Object o) {
    return o == null ? "nothing" : o instanceof List ? "a list" : "'" + o + "'";
  }

  private static Map<String, String> options(Object o, String where) {
    if (o == null) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (var e : asMap(o, where).entrySet()) {
      if (e.getValue() instanceof Map || e.getValue() instanceof List) {
        throw new IllegalArgumentException("configuration " + where + "." + e.getKey() + ": expected a single value");
      }
      out.put(e.getKey(), String.valueOf(e.getValue()));
    }
    return out;
  }

  private static Endpoint endpoint(Object o, String where) {
    if (o instanceof String s) {
      return new Endpoint(parseTarget(s, where), Map.of());
    }
    Map<String, Object> m = asMap(o, where);
    Object t = m.get("target");
    if (!(t instanceof String s)) {
      throw new IllegalArgumentException("configuration " + where + ": 'target' is missing or not a string");
    }
    for (String k : m.keySet()) {
      if (!k.equals("target") && !k.equals("options")) {
        throw new IllegalArgumentException("configuration " + where + ": unknown key '" + k + "' (expected target, options)");
      }
    }
    return new Endpoint(parseTarget(s, where), options(m.get("options"), where + ".options"));
  }

  private static Forward forward(Object o, String where) {
    if (o instanceof String || o instanceof List) {
      return new Forward(targetList(o, where), null, null, Map.of());
    }
    Map<String, Object> m = asMap(o, where);
    for (String k : m.keySet()) {
      if (!Set.of("targets", "loadBalancing", "healthCheck", "options").contains(k)) {
        throw new IllegalArgumentException(
            "configuration " + where + ": unknown key '" + k + "' (expected targets, loadBalancing, healthCheck, options)");
      }
    }
    Object hc = m.get("healthCheck");
    String health = hc == null || Boolean.FALSE.equals(hc) ? null : Boolean.TRUE.equals(hc) ? "" : String.valueOf(hc);
    Object lb = m.get("loadBalancing");
    return new Forward(
        targetList(m.get("targets"), where + ".targets"), lb == null ? null : String.valueOf(lb), health, options(m.get("options"), where + ".options"));
  }

  private static List<Target> targetList(Object o, String where) {
    List<Target> out = new ArrayList<>();
    if (o instanceof String s) {
      out.add(parseTarget(s, where));
    } else if (o instanceof List<?> list && !list.isEmpty()) {
      for (Object t : list) {
        out.add(parseTarget(String.valueOf(t), where));
      }
    } else {
      throw new IllegalArgumentException("configuration " + where + ": expected a target or a list of targets");
    }
    return out;
  }

  private static Target parseTarget(String s, String where) {
    try {
      return Target.parse(s);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("configuration " + where + ": " + e.getMessage(), e);
    }
  }

  /** Where the configuration came from, for messages. */
  public String source() {
    return source;
  }

  public Map<String, String> defaults() {
    return defaults;
  }

  public Map<String, Endpoint> clients() {
    return Map.copyOf(clients);
  }

  public Map<String, List<Endpoint>> servers() {
    return Map.copyOf(servers);
  }

  /**
   * The named client's endpoint, its options laid over the defaults.
   *
   * @throws IllegalArgumentException naming the client and where to configure it
   */
  public Endpoint client(String name) {
    Endpoint e = clients.get(name);
    if (e == null) {
      for (var entry : clients.entrySet()) {
        if (envName(entry.getKey()).equals(envName(name))) {
          e = entry.getValue();
        }
      }
    }
    if (e == null) {
      throw new IllegalArgumentException(
          "no client '" + name + "' in configuration " + source + "; add clients." + name + ".target to it, or set BRIDGE_CLIENTS_"
              + envName(name) + "_TARGET or -Dbridge.clients." + name + ".target");
    }
    Map<String, String> merged = new LinkedHashMap<>(defaults);
    merged.putAll(e.options());
    return new Endpoint(e.target(), Map.copyOf(merged));
  }

  /** The named server's endpoints, each with its options laid over the defaults; empty if none. */
  public List<Endpoint> server(String name) {
    List<Endpoint> eps = servers.getOrDefault(name, List.of());
    List<Endpoint> out = new ArrayList<>();
    for (Endpoint e : eps) {
      Map<String, String> merged = new LinkedHashMap<>(defaults);
      merged.putAll(e.options());
      out.add(new Endpoint(e.target(), Map.copyOf(merged)));
    }
    return out;
  }

  /** Where the named server forwards calls it does not serve itself, with the defaults' options laid under its own. */
  public java.util.Optional<Forward> forward(String serverName) {
    Forward f = forwards.get(serverName);
    if (f == null) {
      return java.util.Optional.empty();
    }
    Map<String, String> merged = new LinkedHashMap<>(defaults);
    merged.putAll(f.options());
    return java.util.Optional.of(new Forward(f.targets(), f.loadBalancing(), f.healthCheck(), Map.copyOf(merged)));
  }

  /** A channel builder for the named client: its target and options from this configuration. */
  public BridgeChannelBuilder channelBuilder(String name) {
    Endpoint e = client(name);
    return BridgeChannelBuilder.forTarget(e.target()).transportOptions(e.options());
  }
}
