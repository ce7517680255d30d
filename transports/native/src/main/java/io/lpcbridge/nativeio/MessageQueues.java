package io.lpcbridge.nativeio;

import static io.lpcbridge.nativeio.Libc.C_INT;
import static io.lpcbridge.nativeio.Libc.C_LONG;
import static io.lpcbridge.nativeio.Libc.C_POINTER;
import static io.lpcbridge.nativeio.Libc.C_SIZE_T;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;

/**
 * POSIX message queues ({@code mq_overview(7)}): open, send, receive, attributes, unlink, and the
 * system limits that bound them.
 *
 * <p>On Linux a queue descriptor is a file descriptor: it can be {@linkplain Fds.PollSet polled}
 * ({@code POLLIN}: a message is waiting; {@code POLLOUT}: there is room), {@linkplain Fds#flock
 * locked} and closed with {@link #close}. {@link #send} and {@link #receive} are bound with {@link
 * Linker.Option#critical critical(true)} so they can use heap buffers without a copy; that is only
 * allowed on queues opened with {@link Fds#O_NONBLOCK}, and they fail fast on any other.
 */
public final class MessageQueues {
  /** {@code /proc/sys/fs/mqueue}: the per-queue limits an unprivileged process may ask for. */
  public static final Path PROC = Path.of("/proc/sys/fs/mqueue");
  /** Where the mqueue file system is usually mounted (not required: mq_open works without it). */
  public static final Path MOUNT = Path.of("/dev/mqueue");

  private static final int RLIMIT_MSGQUEUE = 12;
  private static final int EMFILE = Errno.EMFILE;

  /** struct mq_attr: four longs (flags, maxmsg, msgsize, curmsgs) and four reserved. */
  private static final long ATTR_BYTES = 8 * Long.BYTES;

  private static final MethodHandle MQ_OPEN;
  private static final MethodHandle MQ_CLOSE = Libc.downcall("mq_close", FunctionDescriptor.of(C_INT, C_INT));
  private static final MethodHandle MQ_UNLINK = Libc.downcall("mq_unlink", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle MQ_GETATTR = Libc.downcall("mq_getattr", FunctionDescriptor.of(C_INT, C_INT, C_POINTER));
  private static final MethodHandle MQ_SEND;
  private static final MethodHandle MQ_RECEIVE;
  private static final MethodHandle MQ_TIMEDRECEIVE =
      Libc.downcall("mq_timedreceive", FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T, C_POINTER, C_POINTER));
  private static final MethodHandle GETRLIMIT = Libc.downcall("getrlimit", FunctionDescriptor.of(C_INT, C_INT, C_POINTER));

  static {
    Linker.Option errno = Linker.Option.captureCallState("errno");
    MQ_OPEN =
        Libc.LINKER.downcallHandle(
            symbol("mq_open"),
            FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT, C_POINTER),
            errno,
            Linker.Option.firstVariadicArg(2));
    MQ_SEND =
        Libc.LINKER.downcallHandle(
            symbol("mq_send"), FunctionDescriptor.of(C_INT, C_INT, C_POINTER, C_SIZE_T, C_INT), errno, Linker.Option.critical(true));
    MQ_RECEIVE =
        Libc.LINKER.downcallHandle(
            symbol("mq_receive"), FunctionDescriptor.of(C_LONG, C_INT, C_POINTER, C_SIZE_T, C_POINTER), errno, Linker.Option.critical(true));
  }

  private MessageQueues() {}

  private static MemorySegment symbol(String name) {
    return Libc.LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no symbol '" + name + "'"));
  }

  /** A queue's attributes. */
  public record Attributes(long flags, long maxMessages, long messageSize, long currentMessages) {}

  /**
   * What the system allows: per-queue maxima from {@code /proc/sys/fs/mqueue} and the per-user
   * byte budget {@code RLIMIT_MSGQUEUE} (-1 when unlimited).
   */
  public record Limits(long msgMax, long msgSizeMax, long queuesMax, long userBytes) {
    /**
     * Bytes one queue of {@code maxMessages} × {@code messageSize} charges against {@code
     * RLIMIT_MSGQUEUE}: the payload plus the kernel's per-message bookkeeping (Linux
     * ipc/mqueue.c, mqueue_get_inode), rounded up.
     */
    public static long queueBytes(long maxMessages, long messageSize) {
      return maxMessages * (messageSize + 96);
    }
  }

  /**
   * Reads the system limits.
   *
   * @throws IOException if {@code /proc/sys/fs/mqueue} cannot be read (no POSIX message queues)
   */
  public static Limits limits() throws IOException {
    long userBytes;
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment rl = arena.allocate(16, 8);
      int rc = (int) GETRLIMIT.invokeExact(Fds.callState(), RLIMIT_MSGQUEUE, rl);
      if (rc < 0) {
        throw Libc.error("getrlimit(RLIMIT_MSGQUEUE)", Libc.errno(Fds.callState()));
      }
      userBytes = rl.get(ValueLayout.JAVA_LONG, 0);
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
    return new Limits(readLong("msg_max"), readLong("msgsize_max"), readLong("queues_max"), userBytes);
  }

  private static long readLong(String name) throws IOException {
    return ProcFiles.readLong(PROC.resolve(name));
  }

  /**
   * {@code mq_open}; {@link Fds#O_CLOEXEC} is always added.
   *
   * @param name {@code /name}: one slash, first, then at most 254 characters without a slash
   * @param maxMessages and {@code messageSize}: the attributes of a queue created here; ignored
   *     without {@link Fds#O_CREAT}, or when 0 (the system default)
   * @throws NativeException naming the queue; {@code EMFILE} from mq_open can mean the per-user
   *     byte budget {@code RLIMIT_MSGQUEUE} is spent, which the message then says
   */
  public static int open(String name, int flags, int mode, long maxMessages, long messageSize) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment attr = MemorySegment.NULL;
      if ((flags & Fds.O_CREAT) != 0 && maxMessages > 0) {
        attr = arena.allocate(ATTR_BYTES, 8);
        attr.set(ValueLayout.JAVA_LONG, 8, maxMessages);
        attr.set(ValueLayout.JAVA_LONG, 16, messageSize);
      }
      MemorySegment state = Fds.callState();
      int mqd = (int) MQ_OPEN.invokeExact(state, Libc.cString(arena, name), flags | Fds.O_CLOEXEC, mode, attr);
      if (mqd >= 0) {
        return mqd;
      }
      int errno = Libc.errno(state);
      String what = "mq_open(" + name + (attr.equals(MemorySegment.NULL) ? "" : ", maxmsg " + maxMessages + ", msgsize " + messageSize) + ")";
      if (errno == EMFILE && (flags & Fds.O_CREAT) != 0) {
        what += " [EMFILE here usually means the per-user RLIMIT_MSGQUEUE byte budget is spent:"
            + " close queues, lower the queue depth or message size, or raise it with ulimit -q]";
      }
      throw Libc.error(what, errno);
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
  }

  /** Closes a queue descriptor. */
  public static void close(int mqd) throws NativeException {
    int rc;
    try {
      rc = (int) MQ_CLOSE.invokeExact(Fds.callState(), mqd);
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
    if (rc < 0) {
      throw Libc.error("mq_close(" + mqd + ")", Libc.errno(Fds.callState()));
    }
  }

  /**
   * Removes the queue's name; the queue lives on until its last descriptor is closed.
   *
   * @return false if no queue had that name
   */
  public static boolean unlink(String name) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      int rc = (int) MQ_UNLINK.invokeExact(Fds.callState(), Libc.cString(arena, name));
      if (rc == 0) {
        return true;
      }
      int errno = Libc.errno(Fds.callState());
      if (errno == Errno.ENOENT) {
        return false;
      }
      throw Libc.error("mq_unlink(" + name + ")", errno);
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
  }

  /** {@code mq_getattr}. */
  public static Attributes attributes(int mqd) throws NativeException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
      int rc = (int) MQ_GETATTR.invokeExact(Fds.callState(), mqd, attr);
      if (rc < 0) {
        throw Libc.error("mq_getattr(" + mqd + ")", Libc.errno(Fds.callState()));
      }
      return new Attributes(
          attr.get(ValueLayout.JAVA_LONG, 0),
          attr.get(ValueLayout.JAVA_LONG, 8),
          attr.get(ValueLayout.JAVA_LONG, 16),
          attr.get(ValueLayout.JAVA_LONG, 24));
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
  }

  /**
   * Sends the bytes of {@code message} (position to limit, left as they were) with priority 0 on a
   * non-blocking queue.
   *
   * @return false when the queue is full
   * @throws NativeException e.g. {@code EMSGSIZE} when the message is over the queue's message size
   */
  public static boolean send(int mqd, ByteBuffer message) throws NativeException {
    MemorySegment state = Fds.callState();
    MemorySegment src = MemorySegment.ofBuffer(message);
    while (true) {
      int rc;
      try {
        rc = (int) MQ_SEND.invokeExact(state, mqd, src, src.byteSize(), 0);
      } catch (Throwable t) {
        throw Fds.rethrow(t);
      }
      if (rc == 0) {
        return true;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.EAGAIN) {
        return false;
      }
      if (errno != Errno.EINTR) {
        throw Libc.error("mq_send(" + mqd + ", " + message.remaining() + " bytes)", errno);
      }
    }
  }

  /**
   * Receives one message into {@code dst} (which must have room for the queue's message size) from
   * a non-blocking queue, advancing its position.
   *
   * @return the message's length, or -1 when the queue is empty
   */
  public static int receive(int mqd, ByteBuffer dst) throws NativeException {
    MemorySegment state = Fds.callState();
    MemorySegment target = MemorySegment.ofBuffer(dst);
    while (true) {
      long n;
      try {
        n = (long) MQ_RECEIVE.invokeExact(state, mqd, target, target.byteSize(), MemorySegment.NULL);
      } catch (Throwable t) {
        throw Fds.rethrow(t);
      }
      if (n >= 0) {
        dst.position(dst.position() + (int) n);
        return (int) n;
      }
      int errno = Libc.errno(state);
      if (errno == Errno.EAGAIN) {
        return -1;
      }
      if (errno != Errno.EINTR) {
        throw Libc.error("mq_receive(" + mqd + ", room " + dst.remaining() + ")", errno);
      }
    }
  }

  /**
   * Waits until {@code deadline} for one message on a blocking queue and receives it into the
   * direct buffer {@code dst}, advancing its position.
   *
   * @return the message's length, or -1 if none came by the deadline
   */
  public static int timedReceive(int mqd, ByteBuffer dst, Instant deadline) throws NativeException {
    if (!dst.isDirect()) {
      throw new IllegalArgumentException("timedReceive needs a direct buffer");
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment ts = arena.allocate(16, 8);
      ts.set(ValueLayout.JAVA_LONG, 0, deadline.getEpochSecond());
      ts.set(ValueLayout.JAVA_LONG, 8, deadline.getNano());
      MemorySegment target = MemorySegment.ofBuffer(dst);
      MemorySegment state = Fds.callState();
      while (true) {
        long n = (long) MQ_TIMEDRECEIVE.invokeExact(state, mqd, target, target.byteSize(), MemorySegment.NULL, ts);
        if (n >= 0) {
          dst.position(dst.position() + (int) n);
          return (int) n;
        }
        int errno = Libc.errno(state);
        if (errno == Errno.ETIMEDOUT) {
          return -1;
        }
        if (errno != Errno.EINTR) {
          throw Libc.error("mq_timedreceive(" + mqd + ")", errno);
        }
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    }
  }
}
