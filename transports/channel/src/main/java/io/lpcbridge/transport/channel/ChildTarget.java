package io.lpcbridge.transport.channel;

import io.lpcbridge.nativeio.Spawn;
import io.lpcbridge.transport.Target;
import java.util.List;

/**
 * The three shapes of a target of a transport whose client launches its server (pipe,
 * socketpair):
 *
 * <ul>
 *   <li>{@code scheme:<command line>}, or {@code scheme:} with the option {@code command}: the
 *       parent's side. {@code connect} starts the command as a child and talks to it.
 *   <li>{@code scheme:<child word>} ({@code pipe:stdio}, {@code socketpair:inherited}): the child's
 *       side. {@code listen} serves the one connection its parent handed it at launch.
 *   <li>{@code scheme:@name}: both ends in this process; {@code listen} binds the name, {@code
 *       connect} pairs with it.
 * </ul>
 *
 * @param command the words of the command line (parent's side), else empty
 * @param inProcessName the name without {@code @} (in-process), else null
 * @param childSide whether this is the child's side
 */
public record ChildTarget(List<String> command, String inProcessName, boolean childSide) {
  /** The option that gives the command when the target is just {@code scheme:}. */
  public static final String COMMAND_OPTION = "command";

  /**
   * Parses {@code target}.
   *
   * @param childWord the word naming the child's side, e.g. {@code stdio}
   * @param commandOption the value of the option {@value #COMMAND_OPTION}, or null
   * @throws IllegalArgumentException naming the problem and the target
   */
  public static ChildTarget parse(Target target, String childWord, String commandOption) {
    String rest = target.schemeSpecificPart().strip();
    String scheme = target.scheme();
    if (rest.startsWith("@")) {
      String name = rest.substring(1);
      if (name.isEmpty()) {
        throw new IllegalArgumentException("target '" + target + "': the in-process name after '@' is empty");
      }
      return new ChildTarget(List.of(), name, false);
    }
    if (rest.equals(childWord)) {
      return new ChildTarget(List.of(), null, true);
    }
    if (!rest.isEmpty() && commandOption != null) {
      throw new IllegalArgumentException(
          "target '" + target + "' names a command and the option " + COMMAND_OPTION + " names another; give one of them");
    }
    String line = rest.isEmpty() ? commandOption : rest;
    if (line == null || line.isBlank()) {
      throw new IllegalArgumentException(
          "target '" + target + "' names no command to start: write " + scheme + ":<command line>, or " + scheme
              + ": with the option " + COMMAND_OPTION + "; a child serves on " + scheme + ":" + childWord
              + " and two components of one process use " + scheme + ":@name");
    }
    List<String> words;
    try {
      words = Spawn.splitCommandLine(line);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("target '" + target + "': " + e.getMessage(), e);
    }
    return new ChildTarget(words, null, false);
  }

  /**
   * The target {@code scheme:<command line>} that launches {@code words}, each quoted so that
   * {@link #parse} gives them back unchanged.
   */
  public static Target spawning(String scheme, List<String> words) {
    if (words.isEmpty()) {
      throw new IllegalArgumentException("no command to launch");
    }
    StringBuilder line = new StringBuilder();
    for (String w : words) {
      if (!line.isEmpty()) {
        line.append(' ');
      }
      if (w.indexOf('\'') < 0) {
        line.append('\'').append(w).append('\'');
      } else {
        line.append('"').append(w.replace("\\", "\\\\").replace("\"", "\\\"")).append('"');
      }
    }
    return Target.of(scheme, line.toString());
  }

  public boolean isInProcess() {
    return inProcessName != null;
  }

  public boolean isParentSide() {
    return !childSide && inProcessName == null;
  }
}
