package io.lpcbridge.transport.channel;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lpcbridge.transport.Target;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChildTargetTest {
  @Test
  void aSpawningTargetParsesBackToTheSameWords() {
    List<String> words = List.of("/opt/jdk 25/bin/java", "-cp", "a.jar:b/*", "it's", "say \"hi\" \\", "--target", "pipe:stdio");
    Target t = ChildTarget.spawning("pipe", words);
    assertEquals(words, ChildTarget.parse(t, "stdio", null).command());
  }
}
