// Moves what plugins queued (from any thread) to the JS connections. The helper writes one byte to
// a pipe when work appears; a net.Socket on the pipe's read end wakes the event loop (libuv polls
// it: no thread-pool read is parked, unlike fs.read on a pipe), and each wake-up drains a whole
// batch in one C call. The watcher is unref'd except while on_disconnect calls are in flight, so
// plugin threads never keep Node alive, and it is closed on exit.
//
// Fairness: handing records to connections (a socket write each) is what costs time, so it runs in
// slices of TURN_BUDGET_MS per event-loop turn, shared by every connection and plugin of the
// process and timed from the turn's first batch of more than a few records. What a slice does not
// reach waits in the backlog, in the order the helper gave it, and the next turn starts with it;
// nothing more is taken from the helper meanwhile, so a plugin that sends without end fills its
// own queue in C (and gets its 1008 there) instead of this process's memory, and a client echoing
// elsewhere waits a few milliseconds, not for the whole burst.
//
// Copies: the helper writes records into `slab`, a buffer handed out once (never reused), and the
// payloads go to the connections as views of it, so a reply is copied once after the plugin's
// send (straight from the plugin's buffer, for sends inside on_message). The slab's rest serves
// the next drain; a new one is allocated when too little is left. Sends from plugin threads go the
// same way through the `arena`: the helper writes them there at once (one copy), and each drain
// reports how much of it to take, before which part of the slab (`report`).
import { Socket } from 'node:net';
import { toNumber, type NativeLibrary, type NativePointer } from './ffi.js';
import type { NativeQueueDepth } from './queue-depth.js';
import { CallInput, dispatchRecords, FRAMES_RECORD_OVERHEAD, MAX_FRAME_HEADER_SIZE, RECORD_HEADER_SIZE, type OrphanLog, type RecordTarget } from './records.js';

const SLAB_SIZE = 64 * 1024;
/** A slab with less room than this is replaced before a drain (its rest stays with its views). */
const SLAB_MIN = 16 * 1024;
/** Drain calls per wake-up before yielding to the event loop (a plugin may send without pause). */
const MAX_BATCHES_PER_TURN = 8;
/** Drain calls for one connection inside onMessage/open before its rest goes through drainAll. */
const MAX_CONNECTION_ROUNDS = 8;
/** u32 type, offset and length per message of a batch (wsg_conn_messages' index). */
const INDEX_FIELDS = 3;
/** wsg_drain adds this to its result when more is pending. */
const MORE = 2 ** 40;
/** The arena: sends from plugin threads are written here by the helper (see wsg_arena_next). As
 *  large as a slab: a message waiting for a stalled reader keeps its whole arena alive, as one from
 *  a slab keeps its slab (and a JS handler's echo its socket read's 64 KiB). */
const ARENA_SIZE = SLAB_SIZE;
/** An arena with less room than this gets its successor (the helper switches at the next drain). */
const ARENA_MIN = SLAB_MIN;
/** The helper's report after each drain: arena bytes taken, slab bytes before them, switched. */
const REPORT_TAKEN = 0;
const REPORT_SPLIT = 1;
const REPORT_SWITCHED = 2;
/** Milliseconds per event-loop turn spent handing plugin output to connections. */
const TURN_BUDGET_MS = 2;
/** A backlog beyond this many bytes is handed over regardless of the budget: memory stays bounded
 *  when on_message calls (whose output must leave the helper with them) outpace the slices. */
const BACKLOG_LIMIT = 1024 * 1024;

/** Records taken from the helper and not yet handed over: `buf[at, end)`; `input`: the messages of
 *  the on_message call they came from (their InputSlice records name bytes of them). */
interface Pending {
  buf: Buffer;
  at: number;
  end: number;
  input: CallInput | undefined;
}

export class Pump {
  private readonly targets = new Map<number, RecordTarget>();
  private readonly depth = new BigInt64Array(2);
  /** Written by the helper in every call that drains (each call into it that collect() follows; it
   *  keeps a pointer: this array lives as long as the pump). */
  private readonly report = new Uint32Array(3);
  /** Where the helper writes plugin threads' sends; starts where the helper's arena starts. */
  private arena: Buffer = Buffer.alloc(0);
  /** Given to the helper as the next arena, not switched to yet. */
  private arenaNext: Buffer | undefined;
  private nextToken = 1;
  /** Where the helper writes records: views of it are handed on, so it is only ever written past
   *  `slabAt` (where the next call writes), never reused. */
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  private slabAt = 0;
  /** Where a batch's messages are named for wsg_conn_messages (grows, never shrinks). */
  private index = new Uint32Array(INDEX_FIELDS * 64);
  private watcher: Socket | undefined;
  private pendingDisconnects = 0;
  private readonly backlog: Pending[] = [];
  private backlogBytes = 0;
  /** performance.now() when this turn's budget was first consulted; -1 = not yet in this turn. */
  private turnStartedAt = -1;
  private turnEnd: NodeJS.Immediate | undefined;
  /** drain(null) left work in the helper (which then stays signalled: no new wake byte comes). */
  private helperPending = false;
  /** > 0 while handing over must finish regardless of the budget (a closing connection's replies). */
  private urgent = 0;
  /** handOver is running (a record's receiver may close its connection and come back here). */
  private dispatching = false;
  /** The turn's budget. Its clock starts when it is first consulted (after RECORDS_PER_CHECK
   *  records of one batch, or at a second batch), not at the turn's first hand-over: a call's few
   *  replies to the messages it was given (an echo's) go out as a JS handler's would, without a
   *  clock read or a check-phase callback per turn; a burst is timed from its first check on. */
  private readonly keepGoing = (): boolean => {
    if (this.urgent > 0 || this.backlogBytes > BACKLOG_LIMIT) return true;
    if (this.turnStartedAt < 0) {
      this.turnStartedAt = performance.now();
      this.scheduleTurnEnd();
      return true;
    }
    return performance.now() - this.turnStartedAt < TURN_BUDGET_MS;
  };
  /** The turn's end (once per turn): the budget's clock stops, and what is left is handed over. */
  private scheduleTurnEnd(): void {
    this.turnEnd ??= setImmediate(this.endTurn);
  }
  private readonly endTurn = (): void => {
    this.turnEnd = undefined;
    this.turnStartedAt = -1;
    if (this.backlog.length > 0 || this.helperPending) this.drainAll();
  };
  private readonly lookup = (token: number): RecordTarget | undefined => this.targets.get(token);
  /** Where plugins' log lines without a live connection go (set by the first endpoint). */
  orphanLog: OrphanLog | undefined;
  private readonly orphan: OrphanLog = (line) => this.orphanLog?.(line);

  constructor(
    private readonly lib: NativeLibrary,
    wakeFd: number,
  ) {
    lib.arenaReport(this.report);
    this.giveArena();
    if (wakeFd >= 0) {
      const watcher = new Socket({ fd: wakeFd, readable: true, writable: false });
      watcher.on('data', () => this.drainAll());
      watcher.on('error', () => undefined); // the pipe cannot fail while the process lives
      watcher.unref();
      this.watcher = watcher;
      process.once('exit', () => watcher.destroy());
    }
  }

  /** What plugins queued in the helper and this process has not taken yet (the metrics' gauge). */
  queueDepth(): NativeQueueDepth {
    this.lib.queueDepth(this.depth);
    return { messages: Number(this.depth[0]), bytes: Number(this.depth[1]) };
  }

  register(target: RecordTarget): number {
    let token = this.nextToken;
    while (token === 0 || this.targets.has(token)) token = (token + 1) >>> 0;
    this.nextToken = (token + 1) >>> 0;
    this.targets.set(token, target);
    return token;
  }

  unregister(token: number): void {
    this.targets.delete(token);
  }

  /** Records not handed over yet include replies that are views of the messages they answer. */
  holdsInput(): boolean {
    for (const pending of this.backlog) if (pending.input !== undefined) return true;
    return false;
  }

  /** Keeps the loop alive while an on_disconnect runs, so shutdown can await it. */
  disconnectStarted(): void {
    if (this.pendingDisconnects++ === 0) this.watcher?.ref();
  }

  disconnectFinished(): void {
    if (this.pendingDisconnects > 0 && --this.pendingDisconnects === 0) this.watcher?.unref();
  }

  /** Shutdown gave up on running on_disconnect calls: they no longer keep the process alive. */
  abandonDisconnects(): void {
    this.pendingDisconnects = 0;
    this.watcher?.unref();
  }

  /** on_message, then that connection's queue (replies keep their order; what the turn's budget
   *  does not reach follows in the next turns). `frames`: text and binary replies may come framed
   *  (the connection's frames carry no extension). `urgent`: all of it now (the connection is closing). */
  message(conn: NativePointer, type: number, data: Buffer, frames: boolean, urgent = false): void {
    // Room for a reply of the message's size up to a slab, which the plugin then writes straight
    // into the slab. A reply made of the message's own bytes (an echo) needs none: it comes back as
    // a view of `data`. A larger reply of the plugin's own memory takes the queue (a copy there and
    // one into a buffer of its own): sizing every large message's slab for it cost more (1 MiB echoes:
    // 1,500 → 1,070 µs of CPU each without it).
    this.slabRoom(Math.min(data.length, SLAB_SIZE) + (frames ? FRAMES_RECORD_OVERHEAD + MAX_FRAME_HEADER_SIZE : RECORD_HEADER_SIZE));
    const slab = this.slab;
    const at = this.slabAt;
    const result = toNumber(this.lib.connMessage(conn, type, data.length ? data : null, data.length, slab, at, slab.length, frames ? 1 : 0));
    this.handOverCall(slab, at, result, data.length ? CallInput.of(data) : undefined, conn, urgent);
  }

  /** on_message for each of several messages in one C call, then the connection's queue. The
   *  messages lie in one piece of memory, their read's (NativeConnection batches them so), which
   *  the helper is given as it is, with where each lies in it: nothing is copied or wrapped. */
  messages(conn: NativePointer, types: readonly number[], batch: readonly Buffer[], memory: ArrayBufferLike | undefined, bytes: number, frames: boolean, urgent = false): void {
    const count = batch.length;
    if (this.index.length < INDEX_FIELDS * count) this.index = new Uint32Array(Math.max(INDEX_FIELDS * count, 2 * this.index.length));
    const index = this.index;
    let end = 0;
    for (let i = 0, at = 0; i < count; i++, at += INDEX_FIELDS) {
      const data = batch[i]!;
      const length = data.length;
      index[at] = types[i]!;
      index[at + 2] = length;
      if (length === 0) {
        index[at + 1] = 0;
        continue;
      }
      index[at + 1] = data.byteOffset;
      if (data.byteOffset + length > end) end = data.byteOffset + length;
    }
    // Room for each message's reply up to its own size (written straight into the slab), up to half
    // a slab: asking for a whole one would replace the slab at every call. Replies past what the
    // slab holds wait in the helper's queue (an echo's are offsets into the memory, 24 bytes each).
    // Framed replies need less per message (a header of 2 or 4 bytes below 64 KiB) and one record.
    this.slabRoom(Math.min(bytes + RECORD_HEADER_SIZE * count + (frames ? FRAMES_RECORD_OVERHEAD : 0), SLAB_SIZE / 2));
    const slab = this.slab;
    const at = this.slabAt;
    const base = end === 0 ? null : memory!;
    const result = toNumber(this.lib.connMessages(conn, base, end, index, count, slab, at, slab.length, frames ? 1 : 0));
    this.handOverCall(slab, at, result, base === null ? undefined : new CallInput(batch, base, 0), conn, urgent);
  }

  /** Releases one connection (its early sends may go out now) and drains its queue. `urgent`: the
   *  backlog and this queue now, whatever the budget (the connection is closing: what it had sent
   *  goes out before the close frame). */
  drainConnection(conn: NativePointer, urgent = false): void {
    // Closing because of a record being handed over (the plugin's close, a queue overflow): what
    // came before it is out, and the plugin's later sends are refused.
    if (urgent && this.dispatching) return;
    if (urgent) this.urgent++;
    try {
      if (urgent) this.handOver();
      const result = this.drainIntoSlab(conn);
      if (this.collect(this.slab, this.slabAt, result)) this.consume(result, conn, MAX_CONNECTION_ROUNDS);
    } finally {
      if (urgent) this.urgent--;
    }
  }

  /** Every ready connection and finished disconnect, after the backlog, as far as this turn's
   *  budget goes. `urgent`: the plugin's log lines must be out now (on_connect's, before the 101). */
  drainAll(urgent = false): void {
    if (urgent) this.urgent++;
    try {
      this.helperPending = true;
      if (!this.handOver()) {
        this.scheduleTurnEnd();
        return;
      }
      const result = this.drainIntoSlab(null);
      this.helperPending = this.collect(this.slab, this.slabAt, result) && this.consume(result, null, MAX_BATCHES_PER_TURN);
      // The helper stays signalled while it holds work (no new wake byte comes): the turn's end
      // drains on.
      if (this.helperPending) this.scheduleTurnEnd();
    } finally {
      if (urgent) this.urgent--;
    }
  }

  /** Replaces the slab when it has less than `min` bytes (and SLAB_MIN) of room past slabAt. */
  private slabRoom(min: number): void {
    if (this.slab.length - this.slabAt < Math.max(min, SLAB_MIN)) {
      this.slab = Buffer.allocUnsafe(Math.max(min, SLAB_SIZE));
      this.slabAt = 0;
    }
  }

  /** wsg_drain into the slab's room (collect() takes the result from this.slab at this.slabAt). */
  private drainIntoSlab(conn: NativePointer | null): number {
    this.slabRoom(0);
    return toNumber(this.lib.drain(conn, this.slab, this.slabAt, this.slab.length));
  }

  /** After an on_message call, then that connection's queue. When the call's records are all there
   *  is (nothing in the backlog, the arena or the helper: an echo's replies, the usual case), they
   *  are handed over straight from the slab; otherwise they join the backlog behind the rest.
   *  `urgent`: all of it now, whatever the budget. */
  private handOverCall(slab: Buffer, at: number, result: number, input: CallInput | undefined, conn: NativePointer, urgent: boolean): void {
    if (urgent) this.urgent++;
    try {
      const report = this.report;
      const alone = result > 0 && result < MORE && report[REPORT_TAKEN] === 0 && report[REPORT_SWITCHED] === 0 && this.backlog.length === 0 && !this.dispatching;
      if (!alone) {
        if (this.collect(slab, at, result, input)) this.consume(result, conn, MAX_CONNECTION_ROUNDS);
        return;
      }
      const end = at + result;
      this.slabAt = end;
      this.dispatching = true;
      let stopped: number;
      try {
        stopped = this.dispatch(slab, at, end, input);
      } finally {
        this.dispatching = false;
      }
      // The turn's budget ran out: the rest waits for the turn's end, like a backlog's.
      if (stopped < end) {
        this.take(slab, stopped, end, input);
        this.scheduleTurnEnd();
      }
    } finally {
      if (urgent) this.urgent--;
    }
  }

  /** dispatchRecords with this pump's receivers and budget; where it stopped. */
  private dispatch(buf: Buffer, at: number, end: number, input: CallInput | undefined): number {
    return dispatchRecords(buf, at, end, this.lookup, this.orphan, this.keepGoing, input);
  }

  /** Hands drain results over until nothing is pending, `rounds` calls were made or the turn's
   *  budget ran out; true when work was left (a connection's left-overs also reach drainAll through
   *  the helper's ready list). `first` is the result of a call whose records collect() took. */
  private consume(first: number, conn: NativePointer | null, rounds: number): boolean {
    let result = first;
    for (let round = 1; ; round++) {
      if (result < 0) {
        // A record larger than the slab's room: drained alone into a buffer of its own.
        const own = Buffer.allocUnsafe(-result);
        result = toNumber(this.lib.drain(conn, own, 0, own.length));
        this.collect(own, 0, result);
      }
      const more = result >= MORE;
      if (!this.handOver()) return more;
      if (!more) return false;
      if (round >= rounds) return true;
      result = this.drainIntoSlab(conn);
      this.collect(this.slab, this.slabAt, result);
    }
  }

  /** Takes what a call into the helper produced, right after it: the records it wrote into `out`
   *  from `outAt` (the slab, or a buffer of its own) and the arena's records it reports, in the helper's order.
   *  Taken before handing over: a receiver may come back here and drain into the slab. `input`: the
   *  messages of that on_message call (its InputSlice records name bytes of them). True when anything
   *  is pending (records taken, or more in the helper). */
  private collect(out: Buffer, outAt: number, result: number, input?: CallInput): boolean {
    const used = result <= 0 ? 0 : result >= MORE ? result - MORE : result;
    const report = this.report;
    const taken = report[REPORT_TAKEN]!;
    const split = taken === 0 ? used : report[REPORT_SPLIT]!;
    if (split > 0) this.take(out, outAt, outAt + split, input);
    if (taken > 0) {
      this.take(this.arena, 0, taken, undefined);
      this.arena = this.arena.subarray(taken);
    }
    if (used > split) this.take(out, outAt + split, outAt + used, input);
    if (used > 0 && out === this.slab) this.slabAt = outAt + used;
    if (report[REPORT_SWITCHED] === 1) {
      this.arena = this.arenaNext!;
      this.arenaNext = undefined;
    }
    if (this.arenaNext === undefined && this.arena.length < ARENA_MIN) this.giveArena();
    return result !== 0 || taken > 0;
  }

  /** The helper's next arena (it switches at the next drain, after taking what the current one holds). */
  private giveArena(): void {
    this.arenaNext = Buffer.allocUnsafe(ARENA_SIZE);
    this.lib.arenaNext(this.arenaNext, this.arenaNext.length);
  }

  /** Adds the records in `buf[at, end)` to the backlog. */
  private take(buf: Buffer, at: number, end: number, input: CallInput | undefined): void {
    this.backlog.push({ buf, at, end, input });
    this.backlogBytes += end - at;
  }

  /** Hands the backlog to its connections within this turn's budget (at least a few records per
   *  call, so a plain echo's reply still goes out with the message); true when it is empty. */
  private handOver(): boolean {
    if (this.dispatching) return false;
    this.dispatching = true;
    try {
      const backlog = this.backlog;
      let first = true;
      while (backlog.length > 0) {
        if (!first && !this.keepGoing()) {
          this.scheduleTurnEnd();
          return false;
        }
        first = false;
        const head = backlog[0]!;
        const at = this.dispatch(head.buf, head.at, head.end, head.input);
        this.backlogBytes -= at - head.at;
        head.at = at;
        if (at < head.end) {
          this.scheduleTurnEnd();
          return false;
        }
        backlog.shift();
      }
      return true;
    } finally {
      this.dispatching = false;
    }
  }
}
