package io.lpcbridge.transport.tcp;

import io.lpcbridge.transport.TransportOptions;
import io.netty.channel.WriteBufferWaterMark;
import java.time.Duration;
import java.util.Set;

/**
 * The {@link TransportOptions} a tcp listener or connection uses, parsed and checked once.
 *
 * @param loops the event loops and channel classes ({@code io} option); null with {@code io=jdk},
 *     which runs on no event loop ({@link JdkTcp})
 * @param maxMessageSize the largest message each way
 * @param waterMark outbound bytes above which the connection turns unwritable (high) and below
 *     which it turns writable again (low, half of high)
 * @param connectTimeout the bound on connect and bind
 * @param linger the bound on an orderly close
 */
record TcpSettings(
    TcpEventLoops loops, int maxMessageSize, WriteBufferWaterMark waterMark, Duration connectTimeout, Duration linger) {

  /** Options tcp understands beyond {@link TransportOptions#COMMON}. */
  static final Set<String> OPTIONS = Set.of(TcpEventLoops.IO_OPTION);

  /** Whether connections run on {@link JdkTcp} instead of Netty's event loops. */
  boolean jdk() {
    return loops == null;
  }

  static TcpSettings of(TransportOptions options) {
    options.checkKnown("tcp", OPTIONS);
    int high = options.writeHighWaterMark();
    if (high < 1) {
      throw new IllegalArgumentException("transport option writeHighWaterMark=" + high + " must be positive");
    }
    String io = options.get(TcpEventLoops.IO_OPTION, "auto").trim();
    return new TcpSettings(
        io.equalsIgnoreCase(TcpEventLoops.JDK) ? null : TcpEventLoops.forOption(io),
        options.maxMessageSize(),
        new WriteBufferWaterMark(high / 2, high),
        options.connectTimeout(),
        options.linger());
  }
}
