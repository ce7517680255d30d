package io.lpcbridge.transport.unixdgram;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code unix+dgram:///path} and {@code unix+dgram:@name}: Unix datagram sockets via junixsocket,
 * with a connection made on top: a handshake ({@link DgramConnector}, {@link DgramHandshake}) gives
 * each connection a pair of sockets connected to each other ({@link DgramListener}); messages over
 * the datagram size are fragmented and reassembled, and a full receiver pushes back on its sender
 * ({@link io.lpcbridge.transport.channel.DatagramConnections}). Datagram sockets have no end of
 * file: an orderly close says BYE, and a peer that died (a restarted server, too) is found by a
 * probe after {@code keepAliveInterval} of silence, which its closed socket refuses at once.
 *
 * <h2>Options</h2>
 *
 * {@code datagramSize}, {@code keepAliveInterval}, {@code mode}: see {@link DgramSettings}.
 */
public final class UnixDgramTransportProvider implements TransportProvider {
  static final String NAME = "unix-dgram";
  static final String SCHEME = "unix+dgram";

  public UnixDgramTransportProvider() {}

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
    return "Unix datagram sockets (unix+dgram:///path, unix+dgram:@name) via junixsocket, fragmented messages";
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.MESSAGE_BOUNDARIES, Capability.INLINE_RECEIVE);
  }

  @Override
  public Set<String> supportedOptions() {
    return DgramSettings.OPTIONS;
  }

  @Override
  public boolean isAvailable() {
    return UnixDgramAvailability.cause().isEmpty();
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return UnixDgramAvailability.cause();
  }

  @Override
  public List<Target> loopbackTargets(Path scratchDir) {
    return isAvailable() ? List.of(Target.parse(SCHEME + "://" + scratchDir.toAbsolutePath().resolve("unix-dgram.sock"))) : List.of();
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    DgramAddress address = check(target, options);
    return DgramListener.bind(address, options, DgramSettings.of(options));
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    DgramAddress address = check(target, options);
    return DgramConnector.connect(address, target, options, DgramSettings.of(options));
  }

  private DgramAddress check(Target target, TransportOptions options) throws IOException {
    if (!SCHEME.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not a " + SCHEME + ": target");
    }
    options.checkKnown(NAME, supportedOptions());
    options.maxMessageSize();
    DgramSettings.of(options);
    DgramAddress address = DgramAddress.of(target);
    Optional<Throwable> cause = unavailabilityCause();
    if (cause.isPresent()) {
      throw new TransportUnavailableException(
          "transport " + NAME + " for '" + target + "' is not available here: " + cause.get().getMessage(), cause.get());
    }
    return address;
  }
}
