package io.lpcbridge.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class MessageQueuesTest {
  private static final String NAME = "/lpcbridge-mqtest-" + ProcessHandle.current().pid();

  @Test
  void sendReceiveAttributesFullQueueOversizeAndUnlink() throws Exception {
    MessageQueues.Limits limits = MessageQueues.limits();
    assertTrue(limits.msgMax() >= 1 && limits.msgSizeMax() >= 128, limits.toString());
    int mqd = MessageQueues.open(NAME, Fds.O_CREAT | Fds.O_EXCL | Fds.O_RDWR | Fds.O_NONBLOCK, 0600, 2, 128);
    try {
      MessageQueues.Attributes a = MessageQueues.attributes(mqd);
      assertEquals(2, a.maxMessages());
      assertEquals(128, a.messageSize());
      Fds.PollSet set = new Fds.PollSet(1);
      set.set(0, mqd, (short) (Fds.POLLIN | Fds.POLLOUT));
      set.poll(0);
      assertEquals(Fds.POLLOUT, set.revents(0), "empty: writable, not readable");

      assertTrue(MessageQueues.send(mqd, ByteBuffer.wrap(new byte[] {1, 2, 3})));
      assertTrue(MessageQueues.send(mqd, ByteBuffer.allocateDirect(0)));
      assertFalse(MessageQueues.send(mqd, ByteBuffer.allocate(1)), "full");
      NativeException big = assertThrows(NativeException.class, () -> MessageQueues.send(mqd, ByteBuffer.allocate(129)));
      assertEquals(Errno.EMSGSIZE, big.errno());

      ByteBuffer in = ByteBuffer.allocate(128);
      assertEquals(3, MessageQueues.receive(mqd, in));
      assertEquals(3, in.position());
      assertEquals(0, MessageQueues.receive(mqd, in.clear()));
      assertEquals(-1, MessageQueues.receive(mqd, in.clear()), "empty");

      int blocking = MessageQueues.open(NAME, Fds.O_RDWR, 0, 0, 0);
      try {
        ByteBuffer direct = ByteBuffer.allocateDirect(128);
        assertEquals(-1, MessageQueues.timedReceive(blocking, direct, Instant.now().plus(Duration.ofMillis(20))));
        assertTrue(MessageQueues.send(mqd, ByteBuffer.wrap(new byte[] {9})));
        assertEquals(1, MessageQueues.timedReceive(blocking, direct, Instant.now().plusSeconds(20)));
      } finally {
        MessageQueues.close(blocking);
      }
    } finally {
      MessageQueues.close(mqd);
      assertTrue(MessageQueues.unlink(NAME));
    }
    assertFalse(MessageQueues.unlink(NAME));
    NativeException gone = assertThrows(NativeException.class, () -> MessageQueues.open(NAME, Fds.O_RDONLY, 0, 0, 0));
    assertEquals(Errno.ENOENT, gone.errno());
    assertTrue(gone.getMessage().startsWith("mq_open(" + NAME + ") failed: ENOENT"), gone.getMessage());
  }
}
