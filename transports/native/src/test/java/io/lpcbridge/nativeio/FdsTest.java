package io.lpcbridge.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FdsTest {
  @TempDir Path dir;

  @Test
  void nonBlockingPipeReadsAndWritesHeapAndDirectBuffersAndReportsWouldBlockAndEndOfFile() throws Exception {
    int[] p = Fds.pipe(Fds.O_NONBLOCK);
    try {
      ByteBuffer heap = ByteBuffer.wrap("xxhelloxx".getBytes(StandardCharsets.US_ASCII), 2, 5);
      assertEquals(5, Fds.write(p[1], heap));
      assertEquals(7, heap.position());
      ByteBuffer direct = ByteBuffer.allocateDirect(3).put((byte) '!').put((byte) '?').flip();
      assertEquals(2, Fds.write(p[1], direct));

      ByteBuffer in = ByteBuffer.allocate(16);
      assertEquals(7, Fds.read(p[0], in));
      assertEquals("hello!?", new String(in.array(), 0, in.position(), StandardCharsets.US_ASCII));
      assertEquals(Fds.WOULD_BLOCK, Fds.read(p[0], in), "empty pipe, writer open");
      Fds.close(p[1]);
      p[1] = -1;
      assertEquals(0, Fds.read(p[0], in), "end of file once the writer is closed");
    } finally {
      Fds.closeQuietly(p[0]);
      Fds.closeQuietly(p[1]);
    }
  }

  @Test
  void writeToAPipeWithoutReaderFailsWithEpipeAndAFullPipeTakesNothing() throws Exception {
    int[] p = Fds.pipe(Fds.O_NONBLOCK);
    try {
      ByteBuffer chunk = ByteBuffer.allocateDirect(64 * 1024);
      long total = 0;
      int n;
      while ((n = Fds.write(p[1], chunk.clear())) > 0) {
        total += n;
      }
      assertTrue(total > 0);
      assertEquals(0, Fds.write(p[1], chunk.clear()), "a full pipe takes nothing");
      Fds.close(p[0]);
      p[0] = -1;
      NativeException e = assertThrows(NativeException.class, () -> Fds.write(p[1], ByteBuffer.allocate(1)));
      assertEquals(Errno.EPIPE, e.errno());
      assertTrue(e.getMessage().startsWith("write(fd " + p[1] + ") failed: EPIPE"), e.getMessage());
    } finally {
      Fds.closeQuietly(p[0]);
      Fds.closeQuietly(p[1]);
    }
  }

  @Test
  void writevGathersDirectBuffersInOneCall() throws Exception {
    int[] p = Fds.pipe(Fds.O_NONBLOCK);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment iov = arena.allocate(4L * Fds.IOVEC_BYTES, 8);
      ByteBuffer a = ByteBuffer.allocateDirect(2).put(new byte[] {1, 2}).flip();
      ByteBuffer empty = ByteBuffer.allocateDirect(0);
      ByteBuffer b = ByteBuffer.allocateDirect(3).put(new byte[] {3, 4, 5}).flip();
      assertEquals(5, Fds.writev(p[1], new ByteBuffer[] {a, empty, b}, 0, 3, iov));
      assertFalse(a.hasRemaining());
      assertFalse(b.hasRemaining());
      ByteBuffer in = ByteBuffer.allocate(8);
      assertEquals(5, Fds.read(p[0], in));
      assertArrayEquals(new byte[] {1, 2, 3, 4, 5}, java.util.Arrays.copyOf(in.array(), 5));
    } finally {
      Fds.closeQuietly(p[0]);
      Fds.closeQuietly(p[1]);
    }
  }

  /**
   * A wake racing a drain must not be lost: afterwards, either a byte is pending or the next wake
   * writes one. (A drain that forgot the pending flag before reading could swallow the racing
   * wake's byte and leave the flag set, so that no later wake ever wrote again.)
   */
  @Test
  void aWakeRacingADrainIsNeverLost() throws Exception {
    try (WakePipe wake = new WakePipe()) {
      Fds.PollSet set = new Fds.PollSet(1);
      set.set(0, wake.readFd(), Fds.POLLIN);
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      Thread waker = Thread.ofPlatform().start(() -> {
        try {
          while (!stop.get()) {
            start.await();
            wake.wake();
            start.await();
          }
        } catch (Exception e) {
          // stopped
        }
      });
      try {
        for (int i = 0; i < 20_000; i++) {
          wake.wake(); // a byte pending, as after a poll woke up
          start.await();
          wake.drain(); // races the other thread's wake()
          start.await();
          wake.wake();
          assertEquals(1, set.poll(0), "iteration " + i + ": a wake after a drain left nothing to poll: it was lost");
          wake.drain();
        }
      } finally {
        stop.set(true);
        waker.interrupt();
        waker.join();
      }
    }
  }

  @Test
  void pollSetReportsReadinessAndWakePipeWakesIt() throws Exception {
    int[] p = Fds.pipe(Fds.O_NONBLOCK);
    try (WakePipe wake = new WakePipe()) {
      Fds.PollSet set = new Fds.PollSet(2);
      set.set(0, p[0], Fds.POLLIN);
      set.set(1, wake.readFd(), Fds.POLLIN);
      assertEquals(0, set.poll(0), "nothing ready");
      Thread.ofPlatform().start(wake::wake);
      assertEquals(1, set.poll(20_000), "woken");
      assertEquals(Fds.POLLIN, set.revents(1) & Fds.POLLIN);
      wake.drain();
      assertEquals(0, set.poll(0), "drained");
      Fds.close(p[1]);
      p[1] = -1;
      assertEquals(1, set.poll(0));
      assertTrue((set.revents(0) & Fds.POLLHUP) != 0, "hang-up once the writer is gone");
    } finally {
      Fds.closeQuietly(p[0]);
      Fds.closeQuietly(p[1]);
    }
  }

  @Test
  void statusTellsPipesSocketsAndFilesApartAndFlockExcludesOtherOpenFiles() throws Exception {
    int[] p = Fds.pipe(0);
    int[] s = Fds.socketPair();
    Path file = Files.writeString(dir.resolve("f"), "x");
    int f1 = Fds.open(file, Fds.O_RDONLY, 0);
    int f2 = Fds.open(file, Fds.O_RDONLY, 0);
    try {
      assertTrue(Fds.status(p[0]).isFifo());
      assertTrue(Fds.status(s[0]).isSocket());
      Fds.FileStatus st = Fds.status(file);
      assertEquals(Fds.S_IFREG, st.type());
      assertEquals(st.inode(), Fds.status(f1).inode());
      assertNull(Fds.status(dir.resolve("missing")));
      assertTrue(Fds.flock(f1, Fds.LOCK_EX | Fds.LOCK_NB));
      assertFalse(Fds.flock(f2, Fds.LOCK_EX | Fds.LOCK_NB), "locked through another open file");
      int d = Fds.dup(f1, 100);
      assertTrue(d >= 100);
      Fds.close(d);
    } finally {
      for (int fd : new int[] {p[0], p[1], s[0], s[1], f1, f2}) {
        Fds.closeQuietly(fd);
      }
    }
  }

  @Test
  void openAndUnlinkAndRenameNameThePathInErrors() throws Exception {
    Path missing = dir.resolve("nope");
    NativeException e = assertThrows(NativeException.class, () -> Fds.open(missing, Fds.O_RDONLY, 0));
    assertEquals("open(" + missing + ") failed: ENOENT (No such file or directory)", e.getMessage());
    assertFalse(Fds.unlink(missing));
    Path a = Files.writeString(dir.resolve("a"), "a");
    Fds.rename(a, dir.resolve("b"));
    assertTrue(Files.exists(dir.resolve("b")));
    assertTrue(Fds.unlink(dir.resolve("b")));
  }

  @Test
  void fifoIsCreatedOwnerOnlyAndOpeningItToWriteWithoutReaderIsEnxio() throws Exception {
    Path fifo = dir.resolve("q");
    Fifos.mkfifo(fifo, 0600);
    Fds.FileStatus st = Fds.status(fifo);
    assertTrue(st.isFifo());
    assertEquals(0600, st.permissions());
    NativeException exists = assertThrows(NativeException.class, () -> Fifos.mkfifo(fifo, 0600));
    assertEquals(Errno.EEXIST, exists.errno());
    NativeException nobody = assertThrows(NativeException.class, () -> Fds.open(fifo, Fds.O_WRONLY | Fds.O_NONBLOCK, 0));
    assertEquals(Errno.ENXIO, nobody.errno());
    int r = Fds.open(fifo, Fds.O_RDONLY | Fds.O_NONBLOCK, 0);
    int w = Fds.open(fifo, Fds.O_WRONLY | Fds.O_NONBLOCK, 0);
    Fds.close(w);
    Fds.close(r);
  }
}
