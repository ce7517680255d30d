package io.lpcbridge.transport.unix;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * Unix domain stream sockets over junixsocket: {@code unix:///path} for a socket file and {@code
 * unix:@name} for Linux's abstract namespace. Messages are framed by {@link
 * io.lpcbridge.transport.channel.ChannelConnections}.
 *
 * <h2>Options</h2>
 *
 * Besides the common ones, {@code mode}: the octal permissions of the socket file, {@code 0600}
 * (owner only) by default, e.g. {@code 0660} to admit the group. Accepted peers are also checked
 * against it by their credentials, which is all that guards an abstract name (see {@link
 * UnixListener}).
 *
 * <h2>Files</h2>
 *
 * A stale socket file (nobody listening) is replaced on listen; a live one fails with "address in
 * use". {@link Listener#close()} removes the file.
 */
public final class UnixTransportProvider implements TransportProvider {
  static final String NAME = "unix";
  static final String SCHEME = "unix";

  public UnixTransportProvider() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Set<String> schemes() {
    return Set.of(SCHEME);
  }

  @Override
  public String description() {
    return "Unix domain stream sockets (unix:///path, unix:@name) via junixsocket, length-prefixed messages";
  }

  @Override
  public Set<Capability> capabilities() {
    Set<Capability> c = EnumSet.of(Capability.INLINE_RECEIVE);
    if (UnixAvailability.isAvailable() && UnixAvailability.peerCredentials()) {
      c.add(Capability.PEER_CREDENTIALS);
    }
    return Set.copyOf(c);
  }

  @Override
  public Set<String> supportedOptions() {
    return Set.of(AccessMode.OPTION);
  }

  @Override
  public boolean isAvailable() {
    return UnixAvailability.isAvailable();
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return UnixAvailability.cause();
  }

  @Override
  public java.util.List<Target> loopbackTargets(java.nio.file.Path scratchDir) {
    return isAvailable() ? java.util.List.of(Target.parse("unix://" + scratchDir.toAbsolutePath().resolve("unix.sock"))) : java.util.List.of();
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    UnixAddress address = check(target, options);
    return UnixListener.bind(address, target, options, capabilities());
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    UnixAddress address = check(target, options);
    return UnixConnections.connect(address, target, options, capabilities());
  }

  private UnixAddress check(Target target, TransportOptions options) throws IOException {
    if (!SCHEME.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not a " + SCHEME + ": target");
    }
    options.checkKnown(NAME, supportedOptions());
    options.maxMessageSize();
    AccessMode.parse(options.get(AccessMode.OPTION, null));
    UnixAddress address = UnixAddress.of(target);
    Optional<Throwable> cause = unavailabilityCause();
    if (cause.isPresent()) {
      throw new TransportUnavailableException(
          "transport unix for '" + target + "' is not available here: " + cause.get().getMessage(), cause.get());
    }
    if (address.isAbstract() && !UnixAvailability.abstractNamespace()) {
      throw new TransportUnavailableException(
          "'" + target + "' names the abstract namespace, which this OS does not have (Linux only);"
              + " use a path: unix:///path/to/socket",
          null);
    }
    return address;
  }
}
