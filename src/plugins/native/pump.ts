// Moves what plugins queued (from any thread) to the JS connections. The helper writes one byte to
// a pipe when work appears; a net.Socket on the pipe's read end wakes the event loop (libuv polls
// it: no thread-pool read is parked, unlike fs.read on a pipe), and each wake-up drains a whole
// batch in one C call. The watcher is unref'd except while on_disconnect calls are in flight, so
// plugin threads never keep Node alive, and it is closed on exit.
import { Socket } from 'node:net';
import { toNumber, type NativeLibrary, type NativePointer } from './ffi.js';
import { dispatchRecords, type OrphanLog, type RecordTarget } from './records.js';

const SCRATCH_SIZE = 64 * 1024;
/** Drain calls per wake-up before yielding to the event loop (a plugin may send without pause). */
const MAX_BATCHES_PER_TURN = 8;
/** Drain calls for one connection inside onMessage/open before its rest goes through drainAll. */
const MAX_CONNECTION_ROUNDS = 8;
/** u32 type + u32 length before each message of a batch. */
const BATCH_HEADER = 8;
/** wsg_drain adds this to its result when more is pending. */
const MORE = 2 ** 40;

export class Pump {
  private readonly targets = new Map<number, RecordTarget>();
  private nextToken = 1;
  private readonly scratch = Buffer.allocUnsafe(SCRATCH_SIZE);
  /** Where a batch of messages is packed for wsg_conn_messages (grows, never shrinks). */
  private batch = Buffer.allocUnsafe(SCRATCH_SIZE);
  private watcher: Socket | undefined;
  private pendingDisconnects = 0;
  private continuation: NodeJS.Immediate | undefined;
  private readonly lookup = (token: number): RecordTarget | undefined => this.targets.get(token);
  /** Where plugins' log lines without a live connection go (set by the first endpoint). */
  orphanLog: OrphanLog | undefined;
  private readonly orphan: OrphanLog = (line) => this.orphanLog?.(line);

  constructor(
    private readonly lib: NativeLibrary,
    wakeFd: number,
  ) {
    if (wakeFd >= 0) {
      const watcher = new Socket({ fd: wakeFd, readable: true, writable: false });
      watcher.on('data', () => this.drainAll());
      watcher.on('error', () => undefined); // the pipe cannot fail while the process lives
      watcher.unref();
      this.watcher = watcher;
      process.once('exit', () => watcher.destroy());
    }
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

  /** on_message, then that connection's queue, synchronously (replies keep their order). */
  message(conn: NativePointer, type: number, data: Buffer): void {
    const result = toNumber(this.lib.connMessage(conn, type, data.length ? data : null, data.length, this.scratch, SCRATCH_SIZE));
    if (result !== 0) this.consume(result, conn, MAX_CONNECTION_ROUNDS);
  }

  /** on_message for each of several messages in one C call, then the connection's queue. */
  messages(conn: NativePointer, batch: ReadonlyArray<readonly [number, Buffer]>, bytes: number): void {
    const size = bytes + BATCH_HEADER * batch.length;
    if (this.batch.length < size) this.batch = Buffer.allocUnsafe(Math.max(size, 2 * this.batch.length));
    const out = this.batch;
    let at = 0;
    for (const [type, data] of batch) {
      out.writeUInt32LE(type, at);
      out.writeUInt32LE(data.length, at + 4);
      out.set(data, at + BATCH_HEADER);
      at += BATCH_HEADER + data.length;
    }
    const result = toNumber(this.lib.connMessages(conn, out, size, this.scratch, SCRATCH_SIZE));
    if (result !== 0) this.consume(result, conn, MAX_CONNECTION_ROUNDS);
  }

  /** Releases one connection (its early sends may go out now) and drains its queue. */
  drainConnection(conn: NativePointer): void {
    const result = toNumber(this.lib.drain(conn, this.scratch, SCRATCH_SIZE));
    if (result !== 0) this.consume(result, conn, MAX_CONNECTION_ROUNDS);
  }

  /** Every ready connection and finished disconnect. */
  drainAll(): void {
    this.continuation = undefined;
    const result = toNumber(this.lib.drain(null, this.scratch, SCRATCH_SIZE));
    if (result !== 0 && this.consume(result, null, MAX_BATCHES_PER_TURN)) {
      // Still more: the helper stays signalled (no new wake byte), so continue on the next turn.
      this.continuation ??= setImmediate(() => this.drainAll());
    }
  }

  /** Dispatches drain results until nothing is pending or `rounds` calls were made; true when
   *  work was left (a connection's left-overs also reach drainAll through the helper's ready list). */
  private consume(first: number, conn: NativePointer | null, rounds: number): boolean {
    let result = first;
    for (let round = 1; ; round++) {
      let more: boolean;
      if (result < 0) {
        // A large record: drained alone into a buffer of its own, used without another copy.
        const own = Buffer.allocUnsafe(-result);
        result = toNumber(this.lib.drain(conn, own, own.length));
        more = result >= MORE;
        const used = more ? result - MORE : result;
        if (used > 0) dispatchRecords(own, used, true, this.lookup, this.orphan);
      } else {
        more = result >= MORE;
        dispatchRecords(this.scratch, more ? result - MORE : result, false, this.lookup, this.orphan);
      }
      if (!more) return false;
      if (round >= rounds) return true;
      result = toNumber(this.lib.drain(conn, this.scratch, SCRATCH_SIZE));
      if (result === 0) return false;
    }
  }
}
