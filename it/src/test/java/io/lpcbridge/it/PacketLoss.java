package io.lpcbridge.it;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Random UDP loss on one host's veth, both ways, with nftables inside the host's namespace ({@code
 * tc netem} is not available on these machines). Each direction has a counting rule and a dropping
 * rule, so the loss actually applied can be reported:
 *
 * <pre>
 * table inet lbit_loss {
 *   chain in  { type filter hook input  priority 0; policy accept;
 *               iifname IF meta l4proto udp counter
 *               iifname IF meta l4proto udp numgen random mod 100 lt P counter drop }
 *   chain out { type filter hook output priority 0; policy accept;
 *               oifname IF meta l4proto udp counter
 *               oifname IF meta l4proto udp numgen random mod 100 lt P counter drop }
 * }
 * </pre>
 */
final class PacketLoss implements AutoCloseable {
  static final String TABLE = "lbit_loss";
  private static final Pattern COUNTER = Pattern.compile("counter packets (\\d+) bytes \\d+");

  /** Packets seen and dropped, each way. */
  record Counts(long inSeen, long inDropped, long outSeen, long outDropped) {
    long seen() {
      return inSeen + outSeen;
    }

    long dropped() {
      return inDropped + outDropped;
    }

    @Override
    public String toString() {
      return String.format(
          "dropped %d of %d UDP packets (%.1f%%; in %d/%d, out %d/%d)",
          dropped(), seen(), seen() == 0 ? 0.0 : 100.0 * dropped() / seen(), inDropped, inSeen, outDropped, outSeen);
    }
  }

  private final TestNetwork.Host host;
  private final int percent;

  private PacketLoss(TestNetwork.Host host, int percent) {
    this.host = host;
    this.percent = percent;
  }

  static PacketLoss install(TestNetwork.Host host, int percent) {
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("loss " + percent + "% is not a percentage");
    }
    String nft = Requirements.requireNft();
    PacketLoss loss = new PacketLoss(host, percent);
    loss.remove(); // a table left by an earlier case on the same host
    String iface = host.iface();
    nft(nft, host, "add", "table", "inet", TABLE);
    nft(nft, host, "add", "chain", "inet", TABLE, "in", "{ type filter hook input priority 0; policy accept; }");
    nft(nft, host, "add", "chain", "inet", TABLE, "out", "{ type filter hook output priority 0; policy accept; }");
    for (String[] dir : new String[][] {{"in", "iifname"}, {"out", "oifname"}}) {
      nft(nft, host, "add", "rule", "inet", TABLE, dir[0], dir[1], iface, "meta", "l4proto", "udp", "counter");
      nft(
          nft, host, "add", "rule", "inet", TABLE, dir[0], dir[1], iface, "meta", "l4proto", "udp", "numgen", "random", "mod",
          "100", "lt", String.valueOf(percent), "counter", "drop");
    }
    System.out.println("[it] " + percent + "% random UDP loss each way on " + host);
    return loss;
  }

  int percent() {
    return percent;
  }

  /** The counters so far. */
  Counts counts() {
    String listing = Commands.run(host.exec(List.of(Requirements.requireNft(), "list", "table", "inet", TABLE)));
    List<Long> c = new ArrayList<>();
    Matcher m = COUNTER.matcher(listing);
    while (m.find()) {
      c.add(Long.parseLong(m.group(1)));
    }
    if (c.size() != 4) {
      throw new IllegalStateException("expected 4 counters in the loss table, found " + c.size() + ":\n" + listing);
    }
    return new Counts(c.get(0), c.get(1), c.get(2), c.get(3));
  }

  /** Removes the loss table (no error if it is not there). */
  void remove() {
    Commands.tryRun(host.exec(List.of(Requirements.requireNft(), "delete", "table", "inet", TABLE)));
  }

  @Override
  public void close() {
    remove();
  }

  private static void nft(String nft, TestNetwork.Host host, String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(nft);
    cmd.addAll(List.of(args));
    Commands.run(host.exec(cmd));
  }
}
