package io.lpcbridge.core;

import java.net.SocketAddress;

/**
 * A bridge endpoint as a {@link SocketAddress}, for the places gRPC's API wants one ({@code
 * Server.getListenSockets()}, {@code Grpc.TRANSPORT_ATTR_REMOTE_ADDR}).
 */
public final class TargetAddress extends SocketAddress {
  private static final long serialVersionUID = 1L;

  private final String address;

  public TargetAddress(String address) {
    this.address = address;
  }

  public String address() {
    return address;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TargetAddress t && t.address.equals(address);
  }

  @Override
  public int hashCode() {
    return address.hashCode();
  }

  @Override
  public String toString() {
    return address;
  }
}
