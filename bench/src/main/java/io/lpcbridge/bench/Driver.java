package io.lpcbridge.bench;

/**
 * Offers one endpoint's load. {@link #start} returns at once, with the load running on threads or
 * callbacks of its own that record into the {@link Window}; each load loop holds {@link
 * Window#active} while it runs and leaves it once the window is stopped and its last exchange is
 * done. One driver serves every scenario of its endpoint, one at a time.
 */
interface Driver extends AutoCloseable {

  /**
   * @param rate calls per second for {@link Mode#FIXED}, else 0
   */
  void start(Scenario scenario, Window window, double rate) throws Exception;

  /** The scenario is over (its loops are quiet, or abandoned): release what it alone used. */
  default void end() {}

  @Override
  void close();
}
