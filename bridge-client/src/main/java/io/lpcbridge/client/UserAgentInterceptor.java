package io.lpcbridge.client;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;

/** Adds the {@code user-agent} header, as gRPC channels do. */
final class UserAgentInterceptor implements ClientInterceptor {
  private static final Metadata.Key<String> USER_AGENT = Metadata.Key.of("user-agent", Metadata.ASCII_STRING_MARSHALLER);

  private final String userAgent;

  private UserAgentInterceptor(String userAgent) {
    this.userAgent = userAgent;
  }

  static ClientInterceptor of(String userAgent) {
    return new UserAgentInterceptor(userAgent);
  }

  @Override
  public <ReqT, RespT> ClientCall<ReqT, RespT> interceptCall(
      MethodDescriptor<ReqT, RespT> method, CallOptions callOptions, Channel next) {
    return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, callOptions)) {
      @Override
      public void start(Listener<RespT> responseListener, Metadata headers) {
        headers.put(USER_AGENT, userAgent);
        super.start(responseListener, headers);
      }
    };
  }
}
