package io.lpcbridge.server;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.lpcbridge.client.BridgeChannelBuilder;
import io.lpcbridge.kv.v1.GetRequest;
import io.lpcbridge.kv.v1.KeyValueGrpc;
import io.lpcbridge.kv.v1.PutRequest;
import java.util.concurrent.TimeUnit;

/**
 * The "unchanged client program" of the configuration test: it names the client "kv" and nothing
 * else; which transport it uses comes from configuration alone.
 */
public final class KvClientProgram {
  private KvClientProgram() {}

  public static void main(String[] args) throws Exception {
    ManagedChannel ch = BridgeChannelBuilder.forClient("kv").build();
    try {
      KeyValueGrpc.KeyValueBlockingStub kv = KeyValueGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS);
      kv.put(PutRequest.newBuilder().setKey(args[0]).setValue(ByteString.copyFromUtf8("v")).build());
      String v = kv.get(GetRequest.newBuilder().setKey(args[0]).build()).getValue().toStringUtf8();
      System.out.println("OK " + v);
    } finally {
      ch.shutdownNow();
    }
  }
}
