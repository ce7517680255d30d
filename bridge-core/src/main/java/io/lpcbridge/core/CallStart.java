package io.lpcbridge.core;

import io.grpc.Metadata;

/**
 * The contents of a CALL_START frame.
 *
 * @param method full method name, {@code package.Service/Method}
 * @param timeoutNanos time left until the caller's deadline, or {@link #NO_TIMEOUT}
 * @param headers request metadata
 * @param authority the authority the client called, or null
 */
public record CallStart(String method, long timeoutNanos, Metadata headers, String authority) {
  public static final long NO_TIMEOUT = -1;
}
