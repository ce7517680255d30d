package io.lpcbridge.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A queue of tasks for many producers and one consumer at a time: {@link SerializingExecutor}'s,
 * whose running flag makes sure only one thread polls at once. A linked list with a dummy head
 * node, after Dmitry Vyukov's intrusive MPSC queue: {@link #add} costs one atomic exchange and
 * a volatile store, and {@link #poll} no atomic instruction, where {@link
 * java.util.concurrent.ConcurrentLinkedQueue} pays a compare-and-set on each side and another
 * every second call. That is per message of a stream.
 *
 * <pre>
 *   head (consumer)                                  tail (producers swap it)
 *     |                                                |
 *   [done] --next--> [task 1] --next--> [task 2] --> [task 3] --next--> null
 * </pre>
 *
 * <p>A producer swaps its node into {@code tail}, then links the node it displaced to it. In
 * between, the queue ends at the displaced node: the consumer sees the tasks before it and not the
 * new one yet. SerializingExecutor allows for that: a producer checks the running flag only after
 * linking, and the consumer clears the flag before it looks at the queue a last time, so one of
 * the two sees the other.
 *
 * <h2>Memory ordering</h2>
 *
 * <ul>
 *   <li>The exchange on {@code tail} is a full fence: a node's task is written before any thread
 *       can reach the node.
 *   <li>{@code next} is written volatile (sequentially consistent), not merely with release:
 *       SerializingExecutor's producer reads the running flag right after linking, and its runner
 *       clears the flag and then calls {@link #isEmpty} (volatile reads). That is Dekker's pattern,
 *       a store then a load on each side: with a release store the load of the flag could pass
 *       the link (x86 holds stores in a buffer while later loads go ahead), the producer would see
 *       the executor running, the runner would see no task, and the task would wait for the next
 *       one. {@link #poll}, on the consumer alone, reads it with acquire: the consumer that sees a
 *       link sees the task behind it.
 *   <li>{@code head} belongs to the consumer, but {@link #isEmpty} may run on a thread that has
 *       just stopped consuming while the next consumer starts: so it is released, and read
 *       volatile there, and a stale answer only costs an extra look at the queue.
 * </ul>
 */
final class TaskQueue {
  private static final VarHandle NEXT;
  private static final VarHandle HEAD;
  private static final VarHandle TAIL;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      NEXT = l.findVarHandle(Node.class, "next", Node.class);
      HEAD = l.findVarHandle(TaskQueue.class, "head", Node.class);
      TAIL = l.findVarHandle(TaskQueue.class, "tail", Node.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static final class Node {
    Runnable task;
    @SuppressWarnings("unused") // through NEXT
    private Node next;

    Node(Runnable task) {
      this.task = task;
    }
  }

  /** The last node consumed (at first a dummy): the queue's tasks are the ones after it. */
  @SuppressWarnings("FieldMayBeFinal") // through HEAD
  private Node head;

  /** The last node added. */
  @SuppressWarnings("FieldMayBeFinal") // through TAIL
  private Node tail;

  TaskQueue() {
    Node dummy = new Node(null);
    head = dummy;
    tail = dummy;
  }

  /** Any thread: appends {@code task}. */
  void add(Runnable task) {
    Node node = new Node(task);
    Node previous = (Node) TAIL.getAndSet(this, node);
    NEXT.setVolatile(previous, node);
  }

  /** The consumer: the first task, removed, or null if none is linked yet. */
  Runnable poll() {
    Node h = (Node) HEAD.getAcquire(this);
    Node next = (Node) NEXT.getAcquire(h);
    if (next == null) {
      return null;
    }
    Runnable task = next.task;
    next.task = null; // the node stays as the dummy; let the task go
    HEAD.setRelease(this, next);
    return task;
  }

  /** Whether no task is linked after the head (see the class comment for one being added). */
  boolean isEmpty() {
    Node h = (Node) HEAD.getVolatile(this);
    return NEXT.getVolatile(h) == null;
  }
}
