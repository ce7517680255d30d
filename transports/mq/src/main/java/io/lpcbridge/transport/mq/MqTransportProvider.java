package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.Fds;
import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.transport.Capability;
import io.lpcbridge.transport.Connection;
import io.lpcbridge.transport.Listener;
import io.lpcbridge.transport.Target;
import io.lpcbridge.transport.TransportOptions;
import io.lpcbridge.transport.TransportProvider;
import io.lpcbridge.transport.TransportUnavailableException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code mq:///name}: POSIX message queues ({@code mq_overview(7)}) through FFM. A well-known
 * request queue, then one queue pair per connection; messages over the queue's message size are
 * fragmented ({@link io.lpcbridge.transport.channel.DatagramConnections}); a full queue is
 * backpressure. Queues are unlinked once both sides have them open, and a crashed server's request
 * queue is removed by whoever finds it unlocked ({@link MqNames}).
 *
 * <h2>Options</h2>
 *
 * {@code queueDepth} and {@code messageSize} ({@link MqSizing}), within {@code
 * /proc/sys/fs/mqueue/msg_max} and {@code msgsize_max}.
 */
public final class MqTransportProvider implements TransportProvider {
  static final String NAME = "mq";
  static final String SCHEME = "mq";

  private static final Object PROBE_LOCK = new Object();
  /** Guarded by PROBE_LOCK: probed on first use. */
  private static Optional<Throwable> cause;
  private static MessageQueues.Limits limits;

  public MqTransportProvider() {}

  private static Optional<Throwable> probe() {
    synchronized (PROBE_LOCK) {
      if (cause == null) {
        try {
          limits = MessageQueues.limits();
          String name = "/lpcbridge-probe-" + ProcessHandle.current().pid() + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
          int mqd = MessageQueues.open(name, Fds.O_CREAT | Fds.O_EXCL | Fds.O_RDONLY | Fds.O_NONBLOCK, 0600, 1, 64);
          MessageQueues.unlink(name);
          MessageQueues.close(mqd);
          cause = Optional.empty();
        } catch (Throwable t) {
          cause = Optional.of(new IOException("POSIX message queues do not work here: " + t.getMessage(), t));
        }
      }
      return cause;
    }
  }

  private static MessageQueues.Limits limits() {
    synchronized (PROBE_LOCK) {
      return limits;
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
    return "POSIX message queues (mq:///name): a request queue, then a queue pair per connection, fragmented messages";
  }

  @Override
  public Set<Capability> capabilities() {
    return Set.of(Capability.MESSAGE_BOUNDARIES, Capability.INLINE_RECEIVE);
  }

  @Override
  public Set<String> supportedOptions() {
    return Set.of(MqSizing.QUEUE_DEPTH, MqSizing.MESSAGE_SIZE);
  }

  @Override
  public boolean isAvailable() {
    return probe().isEmpty();
  }

  @Override
  public Optional<Throwable> unavailabilityCause() {
    return probe();
  }

  @Override
  public List<Target> loopbackTargets(Path scratchDir) {
    if (!isAvailable()) {
      return List.of();
    }
    return List.of(Target.parse("mq:///lpcbridge-" + ProcessHandle.current().pid() + "-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt())));
  }

  @Override
  public Listener listen(Target target, TransportOptions options) throws IOException {
    MqNames names = check(target, options);
    return MqListener.bind(names, options, limits());
  }

  @Override
  public Connection connect(Target target, TransportOptions options) throws IOException {
    MqNames names = check(target, options);
    return MqConnector.connect(names, MqSizing.of(options, limits()), options, limits());
  }

  private MqNames check(Target target, TransportOptions options) throws IOException {
    if (!SCHEME.equals(target.scheme())) {
      throw new IllegalArgumentException("target '" + target + "' is not a " + SCHEME + ": target");
    }
    options.checkKnown(NAME, supportedOptions());
    options.maxMessageSize();
    MqNames names = MqNames.of(target);
    Optional<Throwable> why = probe();
    if (why.isPresent()) {
      throw new TransportUnavailableException("transport mq for '" + target + "' is not available here: " + why.get().getMessage(), why.get());
    }
    MqSizing.of(options, limits());
    return names;
  }
}
