package io.lpcbridge.transport.channel;

import io.lpcbridge.transport.Connection;

/** See {@link ChildConnections#exitingWithParent}. */
final class ParentBoundConnection extends ForwardingConnection {
  private static final System.Logger LOG = System.getLogger(ParentBoundConnection.class.getName());

  ParentBoundConnection(Connection delegate) {
    super(delegate);
  }

  @Override
  void afterClosed(Throwable cause) {
    int status = cause == null ? 0 : 1;
    LOG.log(
        cause == null ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
        "the connection to the parent process closed ({0}); exiting with status {1}",
        cause == null ? "in order" : cause.toString(),
        status);
    // Not on this thread: shutdown hooks may wait for transport threads.
    new Thread(() -> Runtime.getRuntime().exit(status), "exit with parent").start();
  }
}
