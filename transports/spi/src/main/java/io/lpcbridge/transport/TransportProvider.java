package io.lpcbridge.transport;

import java.io.IOException;
import java.util.Optional;
import java.util.Set;

/**
 * A transport, found with {@link java.util.ServiceLoader} (list the class in {@code
 * META-INF/services/io.lpcbridge.transport.TransportProvider}) and chosen by the scheme of a
 * {@link Target}. Use {@link Transports} to look one up.
 *
 * <p>Implementations have a public no-argument constructor, are cheap to construct and thread-safe.
 * Probing the platform (loading a native library, checking a kernel feature) happens at most once,
 * lazily, and its outcome is what {@link #isAvailable()} and {@link #unavailabilityCause()} report.
 */
public interface TransportProvider {

  /** Short name shown in {@code bridge transports}, e.g. {@code tcp}. */
  String name();

  /** The target schemes this provider serves, e.g. {@code unix} and {@code unix+abstract}. */
  Set<String> schemes();

  /** One line for {@code bridge transports}: what the transport runs on. */
  String description();

  /** What connections made with the default options offer. */
  Set<Capability> capabilities();

  /**
   * What connections made with {@code options} offer, where an option changes it (tcp's {@code
   * io=jdk} adds {@link Capability#INLINE_RECEIVE}); {@link #capabilities()} by default.
   *
   * @throws IllegalArgumentException when an option is malformed
   */
  default Set<Capability> capabilities(TransportOptions options) {
    return capabilities();
  }

  /** Options this transport understands beyond {@link TransportOptions#COMMON}. */
  default Set<String> supportedOptions() {
    return Set.of();
  }

  /**
   * The values {@code option} takes, when it is a choice among a few (shm's {@code idle}, tcp's
   * {@code io}), the transport's default first; empty for a free-form option or one the transport
   * does not have. The benchmark measures each choice it is asked for as a series of its own.
   */
  default java.util.List<String> optionChoices(String option) {
    return java.util.List.of();
  }

  /** Whether the transport works on this machine. Never throws. */
  boolean isAvailable();

  /** Why {@link #isAvailable()} is false; empty when it is true. */
  Optional<Throwable> unavailabilityCause();

  /**
   * Targets to listen on for a run on this host alone ({@code bridge demo}, the benchmark, tests),
   * one per scheme worth comparing: a free port on loopback, a socket file or name under {@code
   * scratchDir}, and so on. Empty when the transport cannot listen on its own (a transport whose
   * client spawns its peer says so with {@link Capability#SPAWNS_PEER}) or is unavailable here.
   *
   * @param scratchDir an existing private directory the transport may create files in
   */
  default java.util.List<Target> loopbackTargets(java.nio.file.Path scratchDir) {
    return java.util.List.of();
  }

  /**
   * For a transport whose client spawns its peer ({@link Capability#SPAWNS_PEER}): the target a
   * spawned child serves on (e.g. {@code pipe:stdio}), to pass to its server. Empty otherwise.
   */
  default java.util.Optional<Target> childServeTarget() {
    return java.util.Optional.empty();
  }

  /**
   * For a transport whose client spawns its peer: the client target that launches {@code command}
   * (program and arguments, unquoted) as the child and talks to it.
   *
   * @throws UnsupportedOperationException if the transport does not spawn its peer
   */
  default Target spawnTarget(java.util.List<String> command) {
    throw new UnsupportedOperationException("transport " + name() + " does not launch its peer");
  }

  /**
   * Binds a listener on {@code target}. The listener accepts nothing until {@link Listener#start}.
   *
   * @throws IOException when the address cannot be bound; the message names the target
   * @throws IllegalArgumentException when the target or an option is malformed
   */
  Listener listen(Target target, TransportOptions options) throws IOException;

  /**
   * Opens a connection to {@code target}, blocking for at most {@link
   * TransportOptions#connectTimeout()}. The connection is not started.
   *
   * @throws IOException when the peer cannot be reached; the message names the target
   * @throws IllegalArgumentException when the target or an option is malformed
   */
  Connection connect(Target target, TransportOptions options) throws IOException;
}
