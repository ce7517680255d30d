package io.lpcbridge.transport.shm;

import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code shm://NAME}: one shared-memory segment per connection holding a single-producer,
 * single-consumer ring per direction (layout in {@link SegmentDescriptor} and {@link
 * RecordDescriptor}, spec in {@code docs/shm-ring.md}), set up over a Unix socket.
 *
 * <h2>Rendezvous</h2>
 *
 * A listener binds {@code /tmp/lpcbridge-shm-UID/NAME.sock} (see {@link Rendezvous}). A client
 * connects there; each end checks the other's credentials (same user or root, plus the users of
 * {@code allowUids}); the server creates a sealed memfd, passes it with SCM_RIGHTS, and the client
 * maps it. Nothing appears in {@code /dev/shm}. The socket then carries nothing, and its end of file
 * tells each side promptly that the other process is gone, however it died.
 *
 * <h2>Options</h2>
 *
 * Besides the common ones:
 *
 * <ul>
 *   <li>{@code idle} = {@code adaptive} (default) | {@code block} | {@code yield} | {@code spin}: how
 *       this end's reader thread waits (see {@link IdleStrategy}). Each connection shows its own and
 *       its peer's in {@link Connection#localAddress()} and {@link Connection#remoteAddress()} as
 *       {@code idle=NAME}, last.
 *   <li>{@code spinTime} (default 20us): the spin before {@code block} sleeps.
 *   <li>{@code ringSize} (default 1m): bytes per ring, a power of two from 4k to 1g. A message up
 *       to half of it less 8 bytes goes whole and is handed over in place; a longer one is
 *       fragmented and reassembled. Set on a client, it asks the server for that size.
 *   <li>{@code dir}: the directory for rendezvous sockets instead of {@code /tmp/lpcbridge-shm-UID}.
 *   <li>{@code allowUids}: other user ids admitted, e.g. {@code 1001,1002}; the listener's directory
 *       and socket are then opened to others (0711, 0666) and credentials alone decide.
 * </ul>
 */
public final class ShmTransportProvider implements TransportProvider {
  static final String NAME = "shm";
  static final String SCHEME = "shm";
  private static final SecureRandom RANDOM = new SecureRandom();

  public ShmTransportProvider() {}

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
    return "shared-memory rings (a sealed memfd per connection, rendezvous on a Unix socket);"
        + " idle=" + IdleStrategy.DEFAULT + " by default (idle=adaptive|block|yield|spin)";
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.MESSAGE_BOUNDARIES, Capability.ZERO_COPY, Capability.PEER_CREDENTIALS, Capability.INLINE_RECEIVE);
  }

  @Override
  public Set<String> supportedOptions() {
    return ShmOptions.NAMES;
  }

  @Override
  public java.util.List<String> optionChoices(String option) {
    if (!option.equals(IdleStrategy.OPTION)) {
      return java.util.List.of();
    }
    java.util.List<String> out = new java.util.ArrayList<>();
    out.add(IdleStrategy.DEFAULT.optionValue());
    for (IdleStrategy s : IdleStrategy.values()) {
      if (s != IdleStrategy.DEFAULT) {
        out.add(s.optionValue());
      }
    }
    return java.util.List.copyOf(out);
  }

  @Override
  public boolean isAvailable() {
    return ShmAvailability.cause().isEmpty();
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return ShmAvailability.cause();
  }

  /** One fresh name per call: {@code shm://bridge-PID-RANDOM}. The scratch directory is not used. */
  @Override
  public List<Target> loopbackTargets(Path scratchDir) {
    if (!isAvailable()) {
      return List.of();
    }
    byte[] r = new byte[4];
    RANDOM.nextBytes(r);
    return List.of(Target.of(SCHEME, "//bridge-" + ProcessHandle.current().pid() + "-" + HexFormat.of().formatHex(r)));
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    String name = Rendezvous.name(target);
    ShmOptions shm = ShmOptions.parse(options);
    requireAvailable(target);
    return ShmListener.bind(name, options, shm, capabilities());
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    String name = Rendezvous.name(target);
    ShmOptions shm = ShmOptions.parse(options);
    requireAvailable(target);
    return ShmDialer.connect(name, target, options, shm, capabilities());
  }

  private void requireAvailable(Target target) throws TransportUnavailableException {
    Optional<Throwable> cause = unavailabilityCause();
    if (cause.isPresent()) {
      throw new TransportUnavailableException(
          "transport shm for '" + target + "' is not available here: " + cause.get().getMessage(), cause.get());
    }
  }
}
