// Writes queued output to sockets in bounded slices, for the whole process. A broadcast to
// 10,000 connections only appends its shared frame to each recipient's send queue (a push, no
// socket write) and hands the recipients to this scheduler, which visits them in the order they
// came and writes what waits for as long as TURN_BUDGET_MS per event-loop turn; the rest waits for
// the next turn, so reads (another client's echo) are served in between.
//
// The first slice runs as a microtask right after the code that queued (the broadcast call and its
// caller's synchronous rest), with what is left of the turn's budget counted from the first frame
// queued, so a broadcast that fits, a few hundred recipients, leaves in the same turn as before;
// later slices run from setImmediate, one per loop iteration. Order per connection is kept by
// the queue itself: a send, close or pong to a connection with a frame waiting goes behind it.

import { Fifo } from './fifo.js';

/** What the scheduler visits: a connection with frames waiting in its send queue. */
export interface ScheduledOutput {
  /** Set while the connection is in the scheduler's list (visited once however often it queued). */
  outputScheduled: boolean;
  /** Write what waits as far as the socket takes it (the rest follows on the socket's 'drain'). */
  flushScheduled(): void;
}

/** Milliseconds per event-loop turn spent writing queued output (as the native plugin pump). */
const TURN_BUDGET_MS = 2;
/** Visits between two looks at the clock: a visit is one socket write, a few microseconds. */
const CLOCK_STRIDE = 8;

export class OutputScheduler {
  private readonly waiting = new Fifo<ScheduledOutput>();
  /** performance.now() when this turn's first slice began; -1 = no slice yet in this turn. */
  private turnStartedAt = -1;
  private sliceQueued = false;
  /** A microtask slice left work: the next slice waits one more turn, so I/O is read in between. */
  private leftWork = false;
  private turnEnd: NodeJS.Immediate | undefined;
  private readonly queuedSlice = (): void => {
    this.sliceQueued = false;
    this.slice(true);
  };
  /** The check phase: the budget starts over, and what is left gets the next slice. */
  private readonly endTurn = (): void => {
    this.turnEnd = undefined;
    this.turnStartedAt = -1;
    if (this.length === 0) return;
    if (this.leftWork) {
      // The slice that left this work ran earlier in this same loop iteration (as a microtask
      // after an I/O callback): slicing again now would give this iteration two budgets.
      this.leftWork = false;
      this.turnEnd = setImmediate(this.endTurn);
      return;
    }
    this.slice(false);
  };

  constructor(private readonly budgetMs = TURN_BUDGET_MS) {}

  /** Connections waiting for their turn. */
  get length(): number {
    return this.waiting.length;
  }

  /** Puts a connection at the end of the line (once: a connection already waiting keeps its place). */
  add(target: ScheduledOutput): void {
    if (target.outputScheduled) return;
    target.outputScheduled = true;
    this.waiting.push(target);
    // The queueing itself (a broadcast's loop over its recipients) counts against this turn's budget.
    if (this.turnStartedAt < 0) this.turnStartedAt = performance.now();
    if (!this.sliceQueued && this.turnEnd === undefined) {
      this.sliceQueued = true;
      queueMicrotask(this.queuedSlice);
    }
  }

  /** Visits waiting connections, oldest first, until none waits or this turn's budget is spent. */
  private slice(asMicrotask: boolean): void {
    if (this.turnStartedAt < 0) this.turnStartedAt = performance.now();
    const waiting = this.waiting;
    let visits = 0;
    while (waiting.length > 0) {
      if (++visits % CLOCK_STRIDE === 0 && performance.now() - this.turnStartedAt >= this.budgetMs) break;
      const target = waiting.shift()!;
      target.outputScheduled = false;
      target.flushScheduled();
    }
    if (this.length > 0) this.leftWork ||= asMicrotask;
    // Also when nothing is left: the budget spent in this turn is reset only at its end.
    this.turnEnd ??= setImmediate(this.endTurn);
  }
}

/** The process's one scheduler: every connection's queued broadcast frames share its budget. */
export const outputScheduler = new OutputScheduler();
