package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What the transports whose parent launches its peer ({@code pipe:}, {@code socketpair:}) share:
 * the three target shapes of {@link ChildTarget}, their options, and which side may listen or
 * connect. A subclass says how the child takes its channel over, how the parent launches it, and
 * how two components of one process are paired.
 *
 * <p>Options: {@code command} (the parent's command line, for a bare {@code scheme:}), {@code
 * childStderr} ({@link ChildConnections#CHILD_STDERR_OPTION}), {@code exitWithParent} (the child's
 * side; default true).
 */
public abstract class ChildProcessTransportProvider implements TransportProvider {
  /** Child side: exit once the connection to the parent closes. */
  public static final String EXIT_WITH_PARENT = "exitWithParent";

  private static final Set<String> COMMON_OPTIONS =
      Set.of(ChildTarget.COMMAND_OPTION, ChildConnections.CHILD_STDERR_OPTION, EXIT_WITH_PARENT);

  private final Set<String> options;

  private final String name;
  private final String childWord;
  private final String childNoun;
  private final InProcessEndpoints inProcess;
  private final Throwable unavailable;

  /**
   * @param name the transport's name, which is also its one scheme
   * @param childWord the target naming the child's side, e.g. {@code stdio}
   * @param childNoun what error messages call the child, e.g. {@code child} or {@code worker}
   * @param inProcess the process-wide registry of {@code scheme:@name} endpoints
   * @param unavailable why the transport cannot work here, or null
   * @param extraOptions options of this transport beyond the ones all child-process transports take
   */
  protected ChildProcessTransportProvider(
      String name,
      String childWord,
      String childNoun,
      InProcessEndpoints inProcess,
      Throwable unavailable,
      Set<String> extraOptions) {
    this.options =
        java.util.stream.Stream.concat(COMMON_OPTIONS.stream(), extraOptions.stream()).collect(java.util.stream.Collectors.toUnmodifiableSet());
    this.name = name;
    this.childWord = childWord;
    this.childNoun = childNoun;
    this.inProcess = inProcess;
    this.unavailable = unavailable;
  }

  /** The child's side: take over the channel the parent handed this process at launch. */
  protected abstract Listener listenChildSide(Target target, TransportOptions options, boolean exitWithParent) throws IOException;

  /** The parent's side: launch {@code command} and return the connection to it. */
  protected abstract Connection launch(List<String> command, Target target, TransportOptions options) throws IOException;

  /** Both ends of a channel between two components of this process: {@code [client, server]}. */
  protected abstract Connection[] inProcessPair(Target target, TransportOptions options) throws IOException;

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final Set<String> schemes() {
    return Set.of(name);
  }

  @Override
  public final Optional<Target> childServeTarget() {
    return Optional.of(Target.of(name, childWord));
  }

  @Override
  public final Target spawnTarget(List<String> command) {
    return ChildTarget.spawning(name, command);
  }

  @Override
  public final Set<Capability> capabilities() {
    return Set.of(Capability.SPAWNS_PEER, Capability.INLINE_RECEIVE);
  }

  @Override
  public final Set<String> supportedOptions() {
    return options;
  }


  @Override
  public final boolean isAvailable() {
    return unavailable == null;
  }

  @Override
  public final Optional<Throwable> unavailabilityCause() {
    return Optional.ofNullable(unavailable);
  }

  @Override
  public final Listener listen(Target target, TransportOptions options) throws IOException {
    ChildTarget t = check(target, options);
    if (t.isInProcess()) {
      return inProcess.bind(t.inProcessName(), target);
    }
    if (!t.childSide()) {
      throw new IllegalArgumentException(
          "cannot listen on '" + target + "': a " + name + ": target with a command is for the parent, which connects to it;"
              + " the " + childNoun + " it starts listens on " + name + ":" + childWord);
    }
    return listenChildSide(target, options, options.getBoolean(EXIT_WITH_PARENT, true));
  }

  @Override
  public final Connection connect(Target target, TransportOptions options) throws IOException {
    ChildTarget t = check(target, options);
    if (t.childSide()) {
      throw new IllegalArgumentException(
          "cannot connect to '" + target + "': " + name + ":" + childWord + " is the " + childNoun + "'s side, which listens"
              + " (bridge serve --target " + name + ":" + childWord + "); the parent connects to " + name + ":<command line>");
    }
    if (t.isInProcess()) {
      return inProcess.connect(t.inProcessName(), target, () -> inProcessPair(target, options));
    }
    return launch(t.command(), target, options);
  }

  private ChildTarget check(Target target, TransportOptions options) throws IOException {
    if (!name.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not a " + name + ": target");
    }
    options.checkKnown(name, this.options);
    options.maxMessageSize();
    options.getBoolean(EXIT_WITH_PARENT, true);
    ChildTarget t = ChildTarget.parse(target, childWord, options.get(ChildTarget.COMMAND_OPTION, null));
    if (unavailable != null) {
      throw new TransportUnavailableException(
          "transport " + name + " for '" + target + "' is not available here: " + unavailable.getMessage(), unavailable);
    }
    return t;
  }
}
