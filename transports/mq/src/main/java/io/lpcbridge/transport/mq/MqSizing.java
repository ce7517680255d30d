package io.lpcbridge.transport.mq;

import io.lpcbridge.nativeio.MessageQueues;
import io.lpcbridge.transport.TransportOptions;

/**
 * The attributes of a connection's two queues, from the options {@value #QUEUE_DEPTH} and {@value
 * #MESSAGE_SIZE} within what the system allows ({@code /proc/sys/fs/mqueue/msg_max} and {@code
 * msgsize_max}). Every connection costs {@link #bytesPerConnection} of the per-user {@code
 * RLIMIT_MSGQUEUE} budget ({@code ulimit -q}, 800 KiB by default).
 */
record MqSizing(int queueDepth, int messageSize) {
  /** Messages a connection's queue holds (mq_maxmsg); default: the system maximum, at most 10. */
  static final String QUEUE_DEPTH = "queueDepth";
  /** Bytes per queue message, header included (mq_msgsize); default: the system maximum, at most 64 KiB. */
  static final String MESSAGE_SIZE = "messageSize";
  static final int MIN_MESSAGE_SIZE = 64;

  static MqSizing of(TransportOptions options, MessageQueues.Limits limits) {
    int depth = options.getInt(QUEUE_DEPTH, (int) Math.min(limits.msgMax(), 10));
    int size = options.getInt(MESSAGE_SIZE, (int) Math.min(limits.msgSizeMax(), 64 * 1024));
    if (depth < 1 || depth > limits.msgMax()) {
      throw new IllegalArgumentException(
          "transport option " + QUEUE_DEPTH + "=" + depth + " is outside 1.." + limits.msgMax()
              + " (the maximum is /proc/sys/fs/mqueue/msg_max)");
    }
    if (size < MIN_MESSAGE_SIZE || size > limits.msgSizeMax()) {
      throw new IllegalArgumentException(
          "transport option " + MESSAGE_SIZE + "=" + size + " is outside " + MIN_MESSAGE_SIZE + ".." + limits.msgSizeMax()
              + " (the maximum is /proc/sys/fs/mqueue/msgsize_max)");
    }
    return new MqSizing(depth, size);
  }

  long bytesPerConnection() {
    return 2 * MessageQueues.Limits.queueBytes(queueDepth, messageSize);
  }
}
