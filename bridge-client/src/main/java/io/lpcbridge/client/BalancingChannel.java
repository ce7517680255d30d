package io.lpcbridge.client;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.lpcbridge.core.SharedResources;
import io.lpcbridge.transport.Target;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A channel over several hosts serving the same services, each reached through its own channel
 * (so over any transport), with gRPC's two basic policies:
 *
 * <ul>
 *   <li>{@code pick_first}: every call goes to the first host, in the order given, that is usable;
 *       the next one takes over when it fails. A host's first connection attempt is waited for, as
 *       grpc-java's pick_first tries addresses in order: a later host that happens to connect
 *       first does not take the calls meant for an earlier one that is still connecting.
 *   <li>{@code round_robin}: calls rotate over the usable hosts.
 * </ul>
 *
 * A host is usable when its connection is not in TRANSIENT_FAILURE and, with health checking on,
 * its {@code grpc.health.v1.Health/Check} says SERVING (a host without the health service counts as
 * healthy, as in grpc-java). Hosts that are READY are preferred over hosts still connecting. When
 * no host is usable, calls go to the best remaining one and fail there with its status.
 *
 * <p>Health checks are polled with {@code Check} at a fixed interval (grpc-java uses the streaming
 * {@code Watch}; polling keeps a host's check independent of any one long-lived call).
 */
final class BalancingChannel extends ManagedChannel {
  enum Policy {
    PICK_FIRST,
    ROUND_ROBIN;

    static Policy parse(String name) {
      return switch (name.toLowerCase(Locale.ROOT)) {
        case "pick_first" -> PICK_FIRST;
        case "round_robin" -> ROUND_ROBIN;
        default -> throw new IllegalArgumentException(
            "unknown load-balancing policy '" + name + "'; the bridge has pick_first and round_robin");
      };
    }
  }

  /** Health checking: the service name to ask about ("" for the whole server) and how often. */
  record HealthCheck(String service, Duration interval) {}

  private static final class Backend {
    final Target target;
    final ManagedChannel channel;
    volatile boolean healthy = true;
    /** Its first connection attempt has ended (READY or TRANSIENT_FAILURE seen). */
    volatile boolean settled;
    ScheduledFuture<?> checker;

    Backend(Target target, ManagedChannel channel) {
      this.target = target;
      this.channel = channel;
    }
  }

  private final List<Backend> backends = new ArrayList<>();
  private final Policy policy;
  private final AtomicInteger next = new AtomicInteger();
  private final String authority;

  BalancingChannel(List<Target> targets, List<ManagedChannel> channels, Policy policy, HealthCheck health) {
    this.policy = policy;
    for (int i = 0; i < targets.size(); i++) {
      backends.add(new Backend(targets.get(i), channels.get(i)));
    }
    this.authority = channels.getFirst().authority();
    for (Backend b : backends) {
      // Connect everywhere at once, so states say which hosts are up before calls need them.
      b.channel.getState(true);
      watchUntilSettled(b);
      if (health != null) {
        b.checker =
            SharedResources.timer()
                .scheduleWithFixedDelay(() -> check(b, health), 0, health.interval().toNanos(), TimeUnit.NANOSECONDS);
      }
    }
  }

  private static void check(Backend b, HealthCheck health) {
    var future =
        HealthGrpc.newFutureStub(b.channel)
            .withDeadlineAfter(Math.max(1, health.interval().toMillis()), TimeUnit.MILLISECONDS)
            .check(HealthCheckRequest.newBuilder().setService(health.service()).build());
    future.addListener(
        () -> {
          try {
            b.healthy = future.get().getStatus() == HealthCheckResponse.ServingStatus.SERVING;
          } catch (java.util.concurrent.ExecutionException e) {
            // A host without the health service is healthy, as in grpc-java.
            b.healthy = Status.fromThrowable(e.getCause()).getCode() == Status.Code.UNIMPLEMENTED;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        Runnable::run);
  }

  /** Marks {@code b} settled once its channel has been READY or TRANSIENT_FAILURE. */
  private static void watchUntilSettled(Backend b) {
    ConnectivityState s = b.channel.getState(false);
    if (s == ConnectivityState.READY || s == ConnectivityState.TRANSIENT_FAILURE || s == ConnectivityState.SHUTDOWN) {
      b.settled = true;
      return;
    }
    b.channel.notifyWhenStateChanged(s, () -> watchUntilSettled(b));
  }

  /**
   * 2: ready and healthy (for pick_first, also a healthy host still on its first connection
   * attempt, which is waited for); 1: healthy and connecting or idle; 0: failing or unhealthy.
   */
  private int rank(Backend b) {
    if (!b.healthy) {
      return 0;
    }
    return switch (b.channel.getState(false)) {
      case READY -> 2;
      case IDLE, CONNECTING -> policy == Policy.PICK_FIRST && !b.settled ? 2 : 1;
      case TRANSIENT_FAILURE, SHUTDOWN -> 0;
    };
  }

  private Backend pick() {
    int best = -1;
    List<Backend> tier = new ArrayList<>(backends.size());
    for (Backend b : backends) {
      int r = rank(b);
      if (r > best) {
        best = r;
        tier.clear();
      }
      if (r == best) {
        tier.add(b);
      }
    }
    return policy == Policy.PICK_FIRST ? tier.getFirst() : tier.get(Math.floorMod(next.getAndIncrement(), tier.size()));
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> newCall(MethodDescriptor<ReqT, RespT> method, CallOptions callOptions) {
    return pick().channel.newCall(method, callOptions);
  }

  @Override
  public String authority() {
    return authority;
  }

  @Override
  public ConnectivityState getState(boolean requestConnection) {
    ConnectivityState best = ConnectivityState.SHUTDOWN;
    for (Backend b : backends) {
      ConnectivityState s = b.channel.getState(requestConnection);
      if (order(s) > order(best)) {
        best = s;
      }
    }
    return best;
  }

  private static int order(ConnectivityState s) {
    return switch (s) {
      case SHUTDOWN -> 0;
      case TRANSIENT_FAILURE -> 1;
      case IDLE -> 2;
      case CONNECTING -> 3;
      case READY -> 4;
    };
  }

  @Override
  public ManagedChannel shutdown() {
    for (Backend b : backends) {
      if (b.checker != null) {
        b.checker.cancel(false);
      }
      b.channel.shutdown();
    }
    return this;
  }

  @Override
  public ManagedChannel shutdownNow() {
    for (Backend b : backends) {
      if (b.checker != null) {
        b.checker.cancel(false);
      }
      b.channel.shutdownNow();
    }
    return this;
  }

  @Override
  public boolean isShutdown() {
    return backends.stream().allMatch(b -> b.channel.isShutdown());
  }

  @Override
  public boolean isTerminated() {
    return backends.stream().allMatch(b -> b.channel.isTerminated());
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    for (Backend b : backends) {
      if (!b.channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "BalancingChannel{" + policy.name().toLowerCase(Locale.ROOT) + " over "
        + backends.stream().map(b -> b.target.toString()).toList() + "}";
  }
}
