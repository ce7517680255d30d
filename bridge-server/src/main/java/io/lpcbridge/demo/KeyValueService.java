package io.lpcbridge.demo;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.lpcbridge.kv.v1.DeleteRequest;
import io.lpcbridge.kv.v1.DeleteResponse;
import io.lpcbridge.kv.v1.Entry;
import io.lpcbridge.kv.v1.GetRequest;
import io.lpcbridge.kv.v1.GetResponse;
import io.lpcbridge.kv.v1.KeyValueGrpc;
import io.lpcbridge.kv.v1.PutRequest;
import io.lpcbridge.kv.v1.PutResponse;
import io.lpcbridge.kv.v1.ScanRequest;
import io.lpcbridge.kv.v1.WatchEvent;
import io.lpcbridge.kv.v1.WatchRequest;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * An in-memory key-value store with versions, range scans and change watches: the README's
 * example service. Writes are serialized on the store's monitor so versions and watch events come
 * out in one order.
 */
public final class KeyValueService extends KeyValueGrpc.KeyValueImplBase {
  private record Value(com.google.protobuf.ByteString bytes, long version) {}

  private final NavigableMap<String, Value> store = new ConcurrentSkipListMap<>();
  private final List<Watcher> watchers = new CopyOnWriteArrayList<>();
  private long nextVersion = 1;

  private static final class Watcher {
    final ServerCallStreamObserver<WatchEvent> out;
    final Set<String> prefixes = new CopyOnWriteArraySet<>();

    Watcher(ServerCallStreamObserver<WatchEvent> out) {
      this.out = out;
    }

    boolean matches(String key) {
      for (String p : prefixes) {
        if (key.startsWith(p)) {
          return true;
        }
      }
      return false;
    }
  }

  private static Entry entry(String key, Value v) {
    return Entry.newBuilder().setKey(key).setValue(v.bytes()).setVersion(v.version()).build();
  }

  @Override
  public void put(PutRequest request, StreamObserver<PutResponse> out) {
    if (request.getKey().isEmpty()) {
      out.onError(Status.INVALID_ARGUMENT.withDescription("key must not be empty").asRuntimeException());
      return;
    }
    Value v;
    synchronized (this) {
      Value current = store.get(request.getKey());
      if (request.hasExpectedVersion()) {
        long have = current == null ? 0 : current.version();
        if (have != request.getExpectedVersion()) {
          out.onError(
              Status.FAILED_PRECONDITION
                  .withDescription("key '" + request.getKey() + "' is at version " + have + ", not " + request.getExpectedVersion())
                  .asRuntimeException());
          return;
        }
      }
      v = new Value(request.getValue(), nextVersion++);
      store.put(request.getKey(), v);
      publish(WatchEvent.Kind.PUT, request.getKey(), v);
    }
    out.onNext(PutResponse.newBuilder().setVersion(v.version()).build());
    out.onCompleted();
  }

  @Override
  public void get(GetRequest request, StreamObserver<GetResponse> out) {
    Value v = store.get(request.getKey());
    if (v == null) {
      out.onError(Status.NOT_FOUND.withDescription("no key '" + request.getKey() + "'").asRuntimeException());
      return;
    }
    out.onNext(GetResponse.newBuilder().setValue(v.bytes()).setVersion(v.version()).build());
    out.onCompleted();
  }

  @Override
  public void delete(DeleteRequest request, StreamObserver<DeleteResponse> out) {
    boolean existed;
    synchronized (this) {
      Value old = store.remove(request.getKey());
      existed = old != null;
      if (existed) {
        publish(WatchEvent.Kind.DELETE, request.getKey(), new Value(com.google.protobuf.ByteString.EMPTY, nextVersion++));
      }
    }
    out.onNext(DeleteResponse.newBuilder().setExisted(existed).build());
    out.onCompleted();
  }

  @Override
  public void scan(ScanRequest request, StreamObserver<Entry> out) {
    NavigableMap<String, Value> range =
        request.getEndKey().isEmpty()
            ? store.tailMap(request.getStartKey(), true)
            : store.subMap(request.getStartKey(), true, request.getEndKey(), false);
    int sent = 0;
    for (Map.Entry<String, Value> e : range.entrySet()) {
      if (request.getLimit() > 0 && sent >= request.getLimit()) {
        break;
      }
      out.onNext(entry(e.getKey(), e.getValue()));
      sent++;
    }
    out.onCompleted();
  }

  @Override
  public StreamObserver<WatchRequest> watch(StreamObserver<WatchEvent> out) {
    Watcher w = new Watcher((ServerCallStreamObserver<WatchEvent>) out);
    w.out.setOnCancelHandler(() -> watchers.remove(w));
    watchers.add(w);
    return new StreamObserver<>() {
      @Override
      public void onNext(WatchRequest r) {
        w.prefixes.add(r.getPrefix());
      }

      @Override
      public void onError(Throwable t) {
        watchers.remove(w);
      }

      @Override
      public void onCompleted() {
        watchers.remove(w);
        synchronized (KeyValueService.this) {
          w.out.onCompleted();
        }
      }
    };
  }

  /** Called with the store's monitor held, so every watcher sees changes in version order. */
  private void publish(WatchEvent.Kind kind, String key, Value v) {
    for (Watcher w : watchers) {
      if (w.matches(key) && !w.out.isCancelled()) {
        try {
          w.out.onNext(WatchEvent.newBuilder().setKind(kind).setEntry(entry(key, v)).build());
        } catch (RuntimeException e) {
          watchers.remove(w);
        }
      }
    }
  }
}
