package io.lpcbridge.transport.udp;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stateless handshake cookies. A listener answers INIT with a cookie and keeps nothing; only a
 * COOKIE_ECHO that carries a cookie it minted, from the address it minted it for, makes it
 * allocate a connection. So a spoofed source, which never sees the cookie, cannot make the server
 * hold state, and the answer to INIT is smaller than INIT, so it cannot amplify either.
 *
 * <p>{@code H = HMAC-SHA256(key, clientCid | client address | client port | timestamp | client
 * params)}; the server's connection id is the first 8 bytes of H and the cookie MAC the next 16.
 * The key is random per listener and never leaves it. Timestamps are microseconds of this
 * listener's monotonic clock. Not thread-safe: used on the listener's event loop.
 */
final class CookieJar {
  private static final String ALGORITHM = "HmacSHA256";

  private final Mac mac;
  private final long epochNanos = System.nanoTime();
  private final ByteBuffer input = ByteBuffer.allocate(64);

  CookieJar() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    try {
      mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(key, ALGORITHM));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(ALGORITHM + " is required by the udp transport's handshake cookies", e);
    }
  }

  /** Microseconds since this jar was made. */
  long nowMicros() {
    return (System.nanoTime() - epochNanos) / 1000;
  }

  /** H for these handshake fields: server cid in bytes 0..8, MAC in 8..24. */
  byte[] digest(long clientCid, InetSocketAddress client, long timestamp, Packets.Params params) {
    input.clear();
    input.putLong(clientCid).put(client.getAddress().getAddress()).putShort((short) client.getPort())
        .putLong(timestamp).putInt(params.datagramSize()).putInt(params.window()).putInt(params.maxMessageSize());
    mac.update(input.array(), 0, input.position());
    return mac.doFinal();
  }

  static long serverCid(byte[] digest) {
    long cid = ByteBuffer.wrap(digest).getLong(0);
    return cid == 0 ? 1 : cid; // 0 means "no connection id" on the wire
  }

  static byte[] cookieMac(byte[] digest) {
    return java.util.Arrays.copyOfRange(digest, Long.BYTES, Long.BYTES + Wire.COOKIE_MAC_LENGTH);
  }

  /** Whether a COOKIE_ECHO's server cid and MAC are what this jar minted for those fields. */
  boolean verify(long serverCid, byte[] mac, long clientCid, InetSocketAddress client, long timestamp, Packets.Params params) {
    byte[] h = digest(clientCid, client, timestamp, params);
    return serverCid(h) == serverCid & MessageDigest.isEqual(cookieMac(h), mac);
  }
}
