package io.lpcbridge.bench;

import io.lpcbridge.cli.BridgeCliExtension;

/** Adds {@code bridge bench} to the command line (found through META-INF/services). */
public final class BenchExtension implements BridgeCliExtension {
  @Override
  public Object command() {
    return new BenchCommand();
  }
}
