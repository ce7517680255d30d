package io.lpcbridge.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The harness's own check that the injected loss is real and of the size asked for: plain
 * datagrams (bash's {@code /dev/udp}, no bridge code) crossing the veth both ways, counted by the
 * nftables rules. Runs even while the udp transport is missing, so CI proves the loss setup works.
 */
class PacketLossTest {
  private static final int DATAGRAMS = 500;

  @Test
  void thirtyPercentOfDatagramsAreDroppedEachWay() {
    Requirements.assumeNamespaces();
    Requirements.requireNft();
    try (TestNetwork net = TestNetwork.create();
        PacketLoss loss = net.dropUdp(net.b(), 30)) {
      send(net.a(), net.b().address());
      send(net.b(), net.a().address());
      PacketLoss.Counts c = loss.counts();
      System.out.println("[it] plain datagrams at 30% loss: " + c);
      assertEquals(DATAGRAMS, c.inSeen(), "datagrams into host b");
      assertEquals(DATAGRAMS, c.outSeen(), "datagrams out of host b");
      // 30% of 500 is 150, with a standard deviation of about 10: 90..210 is six deviations.
      assertTrue(c.inDropped() >= 90 && c.inDropped() <= 210, "dropped into host b: " + c);
      assertTrue(c.outDropped() >= 90 && c.outDropped() <= 210, "dropped out of host b: " + c);
    }
  }

  /** Sends DATAGRAMS one-byte datagrams from {@code from} to port 9 (discard) of {@code to}. */
  private static void send(TestNetwork.Host from, String to) {
    Commands.run(
        from.exec(
            List.of(
                "bash", "-c", "for ((i = 0; i < " + DATAGRAMS + "; i++)); do printf x > /dev/udp/" + to + "/9 || true; done")));
  }
}
