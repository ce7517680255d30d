package io.lpcbridge.transport.fifo;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.Fifos;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.channel.PipeBuffers;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code fifo:///dir}: named pipes made with {@code mkfifo(3)}, so unrelated processes can connect.
 * The server reads connection requests from a well-known FIFO in the directory; each connection
 * then has a FIFO pair of its own (mode 0600), unlinked as soon as both sides have it open.
 * Messages are length-prefixed ({@link io.lpcbridge.transport.channel.FdConnections}); a peer's
 * death is end of file. Layouts and handshake: {@link FifoDirectory}, {@link FifoConnector},
 * docs/local-ipc.md. Option: {@code pipeSize}, the kernel buffer of each FIFO a side writes to
 * (default 1m; see {@link PipeBuffers}).
 */
public final class FifoTransportProvider implements TransportProvider {
  static final String NAME = "fifo";
  static final String SCHEME = "fifo";

  private static final Throwable UNAVAILABLE = probe();

  public FifoTransportProvider() {}

  private static Throwable probe() {
    Path dir = null;
    try {
      dir = Files.createTempDirectory("lpcbridge-fifo-probe");
      Fifos.mkfifo(dir.resolve("p"), 0600);
      Fds.unlink(dir.resolve("p"));
      return null;
    } catch (Throwable t) {
      return t;
    } finally {
      if (dir != null) {
        try {
          Files.deleteIfExists(dir);
        } catch (IOException ignored) {
          // A probe's leftovers in the temporary directory.
        }
      }
    }
  }

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
    return "named pipes (fifo:///dir): a request FIFO, then a FIFO pair per connection, length-prefixed messages";
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.INLINE_RECEIVE);
  }

  @Override
  public Set<String> supportedOptions() {
    return Set.of(PipeBuffers.OPTION);
  }

  @Override
  public boolean isAvailable() {
    return UNAVAILABLE == null;
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return Optional.ofNullable(UNAVAILABLE);
  }

  @Override
  public List<Target> loopbackTargets(Path scratchDir) {
    return isAvailable() ? List.of(Target.parse("fifo://" + scratchDir.toAbsolutePath().resolve("fifo"))) : List.of();
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    return FifoListener.bind(check(target, options), options);
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    FifoDirectory d = check(target, options);
    try {
      return FifoConnector.connect(d, options);
    } catch (IOException e) {
      if (e.getMessage() != null && e.getMessage().contains(target.toString())) {
        throw e;
      }
      throw new IOException("cannot connect to " + target + ": " + e.getMessage(), e);
    }
  }

  private FifoDirectory check(Target target, TransportOptions options) throws IOException {
    if (!SCHEME.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not a " + SCHEME + ": target");
    }
    options.checkKnown(NAME, supportedOptions());
    options.maxMessageSize();
    FifoDirectory d = FifoDirectory.of(target);
    if (UNAVAILABLE != null) {
      throw new TransportUnavailableException(
          "transport fifo for '" + target + "' is not available here: " + UNAVAILABLE.getMessage(), UNAVAILABLE);
    }
    return d;
  }
}
