package io.lpcbridge.nativeio;

import static io.lpcbridge.nativeio.Libc.C_INT;
import static io.lpcbridge.nativeio.Libc.C_POINTER;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * Starting a child process with chosen file descriptors in chosen places, through {@code
 * posix_spawnp(3)}: what {@link ProcessBuilder} cannot do (it only offers pipes and files for
 * 0, 1 and 2, and hides the descriptor numbers).
 *
 * <h2>What the child gets</h2>
 *
 * <ul>
 *   <li>Exactly the descriptors of {@link Request#fds}: child fd → parent fd. Every other
 *       descriptor is closed in the child ({@code posix_spawn_file_actions_addclosefrom_np}),
 *       whether or not it is close-on-exec in the parent, so the child cannot keep one of this
 *       process's sockets or pipes open by accident and delay its end-of-file.
 *   <li>Default signal handling and an empty signal mask (a JVM blocks and handles signals that a
 *       child must not inherit).
 *   <li>The environment given, or this process's.
 * </ul>
 *
 * The returned {@link Child} reaps the process on a daemon thread and reports how it ended.
 */
public final class Spawn {
  private static final int POSIX_SPAWN_SETSIGDEF = 0x04;
  private static final int POSIX_SPAWN_SETSIGMASK = 0x08;
  private static final int SIGSET_BYTES = 128;
  /** glibc's posix_spawn_file_actions_t is 80 bytes and posix_spawnattr_t 336; room to spare. */
  private static final int FILE_ACTIONS_BYTES = 512;
  private static final int ATTR_BYTES = 1024;

  private static final int P_PID = 1;
  private static final int WEXITED = 4;
  private static final int WNOWAIT = 0x01000000;
  private static final int CLD_EXITED = 1;
  private static final int SIGINFO_BYTES = 128;
  private static final long SI_CODE = 8;
  private static final long SI_STATUS = 24;

  public static final int SIGKILL = 9;
  public static final int SIGTERM = 15;

  private static final MethodHandle FA_INIT = Libc.downcallNoErrno("posix_spawn_file_actions_init", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle FA_DESTROY = Libc.downcallNoErrno("posix_spawn_file_actions_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle FA_DUP2 =
      Libc.downcallNoErrno("posix_spawn_file_actions_adddup2", FunctionDescriptor.of(C_INT, C_POINTER, C_INT, C_INT));
  private static final Optional<MethodHandle> FA_CLOSEFROM =
      Libc.LOOKUP.find("posix_spawn_file_actions_addclosefrom_np")
          .map(s -> Libc.LINKER.downcallHandle(s, FunctionDescriptor.of(C_INT, C_POINTER, C_INT)));
  private static final MethodHandle ATTR_INIT = Libc.downcallNoErrno("posix_spawnattr_init", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle ATTR_DESTROY = Libc.downcallNoErrno("posix_spawnattr_destroy", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle ATTR_SETFLAGS =
      Libc.downcallNoErrno("posix_spawnattr_setflags", FunctionDescriptor.of(C_INT, C_POINTER, ValueLayout.JAVA_SHORT));
  private static final MethodHandle ATTR_SETSIGMASK =
      Libc.downcallNoErrno("posix_spawnattr_setsigmask", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
  private static final MethodHandle ATTR_SETSIGDEFAULT =
      Libc.downcallNoErrno("posix_spawnattr_setsigdefault", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER));
  private static final MethodHandle SIGEMPTYSET = Libc.downcallNoErrno("sigemptyset", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle SIGFILLSET = Libc.downcallNoErrno("sigfillset", FunctionDescriptor.of(C_INT, C_POINTER));
  private static final MethodHandle SPAWNP =
      Libc.downcallNoErrno(
          "posix_spawnp", FunctionDescriptor.of(C_INT, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER, C_POINTER));
  private static final MethodHandle WAITID =
      Libc.downcall("waitid", FunctionDescriptor.of(C_INT, C_INT, C_INT, C_POINTER, C_INT));
  private static final MethodHandle KILL = Libc.downcall("kill", FunctionDescriptor.of(C_INT, C_INT, C_INT));

  private Spawn() {}

  /**
   * What to start.
   *
   * @param argv the command and its arguments; the command is looked up in {@code PATH} unless it
   *     contains a slash
   * @param environment the child's environment, or null for this process's
   * @param fds child descriptor → this process's descriptor to put there (e.g. {@code 0 → pipe
   *     read end}, {@code 1 → 2} for the child's stdout onto this process's stderr). Descriptors the
   *     map does not name are closed in the child.
   */
  public record Request(List<String> argv, Map<String, String> environment, Map<Integer, Integer> fds) {
    public Request {
      if (argv.isEmpty() || argv.get(0).isEmpty()) {
        throw new IllegalArgumentException("the command to start is empty");
      }
      argv = List.copyOf(argv);
      environment = environment == null ? null : Map.copyOf(environment);
      fds = new TreeMap<>(fds);
    }
  }

  /** How a child ended. */
  public record ExitStatus(int code, int signal) {
    public boolean isSuccess() {
      return code == 0 && signal == 0;
    }

    /** "exited with status 1" or "was killed by signal 9 (SIGKILL)". */
    public String describe() {
      return signal != 0 ? "was killed by signal " + signal + " (" + signalName(signal) + ")" : "exited with status " + code;
    }
  }

  /**
   * Starts the child.
   *
   * @throws NativeException naming the command, e.g. {@code ENOENT} when it is not found
   */
  public static Child spawn(Request request) throws NativeException {
    // Move every source descriptor out of the way of the target numbers first: dup2(fd, fd) in the
    // child would keep close-on-exec, and one mapping could overwrite another's source.
    List<Integer> temporaries = new ArrayList<>();
    int highestTarget = request.fds().keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
    try (Arena arena = Arena.ofConfined()) {
      Map<Integer, Integer> sources = new TreeMap<>();
      for (Map.Entry<Integer, Integer> e : request.fds().entrySet()) {
        int moved = Fds.dup(e.getValue(), Math.max(highestTarget + 1, 10));
        temporaries.add(moved);
        sources.put(e.getKey(), moved);
      }
      MemorySegment actions = arena.allocate(FILE_ACTIONS_BYTES, 16);
      MemorySegment attr = arena.allocate(ATTR_BYTES, 16);
      check((int) FA_INIT.invokeExact(actions), "posix_spawn_file_actions_init");
      try {
        check((int) ATTR_INIT.invokeExact(attr), "posix_spawnattr_init");
        try {
          for (Map.Entry<Integer, Integer> e : sources.entrySet()) {
            check((int) FA_DUP2.invokeExact(actions, (int) e.getValue(), (int) e.getKey()), "posix_spawn_file_actions_adddup2");
          }
          if (FA_CLOSEFROM.isPresent()) {
            check((int) FA_CLOSEFROM.get().invokeExact(actions, highestTarget + 1), "posix_spawn_file_actions_addclosefrom_np");
          }
          MemorySegment empty = arena.allocate(SIGSET_BYTES, 8);
          MemorySegment full = arena.allocate(SIGSET_BYTES, 8);
          int ignored = (int) SIGEMPTYSET.invokeExact(empty);
          ignored = (int) SIGFILLSET.invokeExact(full);
          check((int) ATTR_SETSIGMASK.invokeExact(attr, empty), "posix_spawnattr_setsigmask");
          check((int) ATTR_SETSIGDEFAULT.invokeExact(attr, full), "posix_spawnattr_setsigdefault");
          check((int) ATTR_SETFLAGS.invokeExact(attr, (short) (POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)), "posix_spawnattr_setflags");

          MemorySegment argv = stringArray(arena, request.argv());
          MemorySegment envp = stringArray(arena, environment(request.environment()));
          MemorySegment pid = arena.allocate(ValueLayout.JAVA_INT);
          int rc =
              (int) SPAWNP.invokeExact(pid, Libc.cString(arena, request.argv().get(0)), actions, attr, argv, envp);
          if (rc != 0) {
            throw Libc.error("starting '" + request.argv().get(0) + "' (posix_spawnp)", rc);
          }
          return new Child(pid.get(ValueLayout.JAVA_INT, 0), request.argv());
        } finally {
          int ignored = (int) ATTR_DESTROY.invokeExact(attr);
        }
      } finally {
        int ignored = (int) FA_DESTROY.invokeExact(actions);
      }
    } catch (NativeException e) {
      throw e;
    } catch (Throwable t) {
      throw Fds.rethrow(t);
    } finally {
      for (int fd : temporaries) {
        Fds.closeQuietly(fd);
      }
    }
  }

  private static List<String> environment(Map<String, String> env) {
    Map<String, String> source = env != null ? env : System.getenv();
    List<String> out = new ArrayList<>(source.size());
    for (Map.Entry<String, String> e : new TreeMap<>(source).entrySet()) {
      out.add(e.getKey() + "=" + e.getValue());
    }
    return out;
  }

  private static MemorySegment stringArray(Arena arena, List<String> strings) {
    MemorySegment array = arena.allocate(ValueLayout.ADDRESS, strings.size() + 1L);
    for (int i = 0; i < strings.size(); i++) {
      array.setAtIndex(ValueLayout.ADDRESS, i, arena.allocateFrom(strings.get(i)));
    }
    array.setAtIndex(ValueLayout.ADDRESS, strings.size(), MemorySegment.NULL);
    return array;
  }

  private static void check(int rc, String what) throws NativeException {
    if (rc != 0) {
      throw Libc.error(what, rc);
    }
  }

  /** The name of a few signals children die of, for messages. */
  public static String signalName(int signal) {
    return switch (signal) {
      case 1 -> "SIGHUP";
      case 2 -> "SIGINT";
      case 3 -> "SIGQUIT";
      case 6 -> "SIGABRT";
      case 9 -> "SIGKILL";
      case 11 -> "SIGSEGV";
      case 13 -> "SIGPIPE";
      case 15 -> "SIGTERM";
      default -> "signal " + signal;
    };
  }

  /**
   * A started child process. A daemon thread waits for it and completes {@link #onExit()}; signals
   * are only sent while the child has not been reaped, so a recycled pid is never hit.
   */
  public static final class Child {
    private final int pid;
    private final List<String> argv;
    private final CompletableFuture<ExitStatus> exit = new CompletableFuture<>();
    /** Guarded by this: set once the child has exited, before it is reaped. */
    private boolean exited;

    private Child(int pid, List<String> argv) {
      this.pid = pid;
      this.argv = argv;
      Thread reaper = new Thread(this::reap, "reaper pid " + pid);
      reaper.setDaemon(true);
      reaper.start();
    }

    public int pid() {
      return pid;
    }

    /** The command line it was started with. */
    public List<String> command() {
      return argv;
    }

    /** Completes with the exit status once the child has ended (and been reaped). */
    public CompletableFuture<ExitStatus> onExit() {
      return exit;
    }

    public boolean isAlive() {
      synchronized (this) {
        return !exited;
      }
    }

    /**
     * Sends {@code signal} unless the child has already exited.
     *
     * @return false if it had exited
     */
    public boolean signal(int signal) throws NativeException {
      synchronized (this) {
        if (exited) {
          return false;
        }
        int rc;
        try {
          rc = (int) KILL.invokeExact(Fds.callState(), pid, signal);
        } catch (Throwable t) {
          throw Fds.rethrow(t);
        }
        if (rc < 0 && Libc.errno(Fds.callState()) != Errno.ESRCH) {
          throw Libc.error("kill(" + pid + ", " + signalName(signal) + ")", Libc.errno(Fds.callState()));
        }
        return true;
      }
    }

    private void reap() {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment info = arena.allocate(SIGINFO_BYTES, 8);
        MemorySegment state = Libc.newCallState(arena);
        // WNOWAIT: learn the status but leave the zombie, so the pid stays ours until marked exited.
        while (true) {
          int rc = (int) WAITID.invokeExact(state, P_PID, pid, info, WEXITED | WNOWAIT);
          if (rc == 0) {
            break;
          }
          if (Libc.errno(state) != Errno.EINTR) {
            exit.completeExceptionally(Libc.error("waitid(" + pid + ")", Libc.errno(state)));
            return;
          }
        }
        int code = info.get(ValueLayout.JAVA_INT, SI_CODE);
        int status = info.get(ValueLayout.JAVA_INT, SI_STATUS);
        ExitStatus result = code == CLD_EXITED ? new ExitStatus(status, 0) : new ExitStatus(0, status);
        synchronized (this) {
          exited = true;
        }
        while (true) {
          int rc = (int) WAITID.invokeExact(state, P_PID, pid, info, WEXITED);
          if (rc == 0 || Libc.errno(state) != Errno.EINTR) {
            break;
          }
        }
        exit.complete(result);
      } catch (Throwable t) {
        exit.completeExceptionally(t);
      }
    }

    @Override
    public String toString() {
      return "pid " + pid + " (" + String.join(" ", argv.size() > 4 ? argv.subList(0, 4) : argv) + (argv.size() > 4 ? " ..." : "") + ")";
    }
  }

  /**
   * Splits a command line into words as a POSIX shell would, without expanding anything: words are
   * separated by blanks; {@code 'single quotes'} keep everything literally; {@code "double quotes"}
   * keep everything but {@code \"} and {@code \\}; a backslash outside quotes keeps the next
   * character.
   *
   * @throws IllegalArgumentException for an unterminated quote or a trailing backslash
   */
  public static List<String> splitCommandLine(String line) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == ' ' || c == '\t' || c == '\n') {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
        continue;
      }
      inWord = true;
      if (c == '\'') {
        int end = line.indexOf('\'', i + 1);
        if (end < 0) {
          throw new IllegalArgumentException("unterminated ' quote at position " + i + " of the command line: " + line);
        }
        word.append(line, i + 1, end);
        i = end;
      } else if (c == '"') {
        int j = i + 1;
        for (; j < line.length() && line.charAt(j) != '"'; j++) {
          char d = line.charAt(j);
          if (d == '\\' && j + 1 < line.length() && (line.charAt(j + 1) == '"' || line.charAt(j + 1) == '\\')) {
            j++;
            d = line.charAt(j);
          }
          word.append(d);
        }
        if (j >= line.length()) {
          throw new IllegalArgumentException("unterminated \" quote at position " + i + " of the command line: " + line);
        }
        i = j;
      } else if (c == '\\') {
        if (i + 1 >= line.length()) {
          throw new IllegalArgumentException("the command line ends with a lone backslash: " + line);
        }
        word.append(line.charAt(++i));
      } else {
        word.append(c);
      }
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }

  /** This JVM's {@code java} launcher, for starting child JVMs. */
  public static Path javaLauncher() {
    return Path.of(System.getProperty("java.home"), "bin", "java");
  }
}
