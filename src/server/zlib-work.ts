// The zlib side of permessage-deflate: raw deflate/inflate on libuv's thread pool (the event loop
// never compresses), through one queue per process that runs at most ZLIB_CONCURRENCY jobs at a
// time. Callers (compression.ts) put at most one job per connection and direction in the queue at a
// time, so a connection that sends a flood waits its turn behind everyone else's one message
// instead of filling the pool.
//
// Memory: without context takeover (the default answer) jobs borrow a stream from a small pool and
// reset it afterwards: at most ZLIB_CONCURRENCY streams per kind and window (~300 KB for deflate,
// ~40 KB for inflate), nothing per idle connection. With context takeover a connection keeps its
// own streams (ZlibContext) for its lifetime.
import zlib from 'node:zlib';
import { DEFLATE_TAIL } from '../protocol/index.js';

/** Jobs running at once: the size of libuv's default thread pool (shared with fs and dns, whose jobs wait at most one message). */
export const ZLIB_CONCURRENCY = 4;

/** The inflated message passed the limit; it was abandoned as soon as the output got there. */
export class InflateLimitError extends Error {
  constructor(readonly limit: number) {
    super(`inflated message exceeds ${limit} bytes`);
  }
}

type Job = () => void;

/** FIFO with a fixed number of slots. */
class WorkQueue {
  private running = 0;
  private readonly waiting: Job[] = [];
  private head = 0;

  constructor(private readonly slots: number) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = (): void => {
        this.running++;
        work().then(resolve, reject).finally(() => this.next());
      };
      if (this.running < this.slots) start();
      else this.waiting.push(start);
    });
  }

  private next(): void {
    this.running--;
    if (this.head >= this.waiting.length) return;
    const job = this.waiting[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.waiting.length) {
      this.waiting.splice(0, this.head);
      this.head = 0;
    }
    job();
  }

  get pending(): number {
    return this.waiting.length - this.head + this.running;
  }
}

const queue = new WorkQueue(ZLIB_CONCURRENCY);

/** Jobs waiting or running (tests and diagnostics). */
export function zlibJobs(): number {
  return queue.pending;
}

/** Messages deflated and inflated by this process so far (tests: a broadcast deflates once). */
export const zlibCounts = { deflated: 0, inflated: 0 };

const SYNC_FLUSH = zlib.constants.Z_SYNC_FLUSH;

type ZlibStream = zlib.InflateRaw | zlib.DeflateRaw;

/** Streams for messages without context, reset and reused: making a zlib stream per message costs
 *  fresh pages (~300 KB for deflate) every time. At most ZLIB_CONCURRENCY are kept per kind. */
class StreamPool {
  private readonly idle = new Map<number, ZlibStream[]>();

  constructor(private readonly make: (windowBits: number) => ZlibStream) {}

  take(windowBits: number): ZlibStream {
    return this.idle.get(windowBits)?.pop() ?? this.make(windowBits);
  }

  give(windowBits: number, stream: ZlibStream): void {
    let list = this.idle.get(windowBits);
    if (list === undefined) this.idle.set(windowBits, (list = []));
    if (list.length >= ZLIB_CONCURRENCY) {
      stream.close();
      return;
    }
    stream.reset();
    list.push(stream);
  }
}

// Inflating with a 15-bit window reads whatever window the client used.
const inflaters = new StreamPool(() => zlib.createInflateRaw({ windowBits: 15 }));
const deflaters = new StreamPool((windowBits) => zlib.createDeflateRaw({ windowBits }));

/** A connection's own zlib streams, for context takeover; made on first use. */
export class ZlibContext {
  private inflater: zlib.InflateRaw | undefined;
  private deflater: zlib.DeflateRaw | undefined;

  constructor(private readonly deflateWindowBits: number) {}

  inflateStream(): zlib.InflateRaw {
    return (this.inflater ??= zlib.createInflateRaw({ windowBits: 15 }));
  }

  deflateStream(): zlib.DeflateRaw {
    return (this.deflater ??= zlib.createDeflateRaw({ windowBits: this.deflateWindowBits }));
  }

  /** A stream abandoned mid-message cannot continue: the next use makes a new one. */
  drop(stream: ZlibStream): void {
    stream.close();
    if (stream === this.inflater) this.inflater = undefined;
    if (stream === this.deflater) this.deflater = undefined;
  }

  close(): void {
    this.inflater?.close();
    this.deflater?.close();
    this.inflater = undefined;
    this.deflater = undefined;
  }
}

/** Writes `input` through `stream` and flushes (Z_SYNC_FLUSH): the output of this message. Rejects
 *  with InflateLimitError as soon as the output passes `limit`; the stream is then unusable. */
function throughStream(stream: ZlibStream, input: readonly Buffer[], limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      stream.off('error', finish);
      if (error === undefined) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(new InflateLimitError(limit));
      else chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.on('error', finish);
    for (const piece of input) stream.write(piece);
    stream.flush(SYNC_FLUSH, () => finish(undefined));
  });
}

/** One message through a pooled stream: reset and returned when it went well, closed otherwise. */
async function withPooled(pool: StreamPool, windowBits: number, input: readonly Buffer[], limit: number): Promise<Buffer> {
  const stream = pool.take(windowBits);
  try {
    const out = await throughStream(stream, input, limit);
    pool.give(windowBits, stream);
    return out;
  } catch (err) {
    stream.close();
    throw err;
  }
}

/** Through a connection's kept stream; one that failed is replaced next time. */
async function withKept(context: ZlibContext, stream: ZlibStream, input: readonly Buffer[], limit: number): Promise<Buffer> {
  try {
    return await throughStream(stream, input, limit);
  } catch (err) {
    context.drop(stream);
    throw err;
  }
}

/** The compressed payload without its 00 00 ff ff tail (RFC 7692 §7.2.1). */
function withoutTail(out: Buffer): Buffer {
  const n = out.length;
  if (n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff) return out.subarray(0, n - 4);
  return out;
}

/** Inflates one message's payload (RFC 7692 §7.2.2: the tail is appended here). Rejects with
 *  InflateLimitError once the output passes `limit` bytes, or with zlib's error for bad data.
 *  `context`: the connection's kept stream (client context takeover), else a pooled one, reset. */
export function inflateMessage(data: Buffer, limit: number, context: ZlibContext | undefined): Promise<Buffer> {
  zlibCounts.inflated++;
  const input = [data, DEFLATE_TAIL];
  if (context === undefined) return queue.run(() => withPooled(inflaters, 15, input, limit));
  return queue.run(() => withKept(context, context.inflateStream(), input, limit));
}

/** Deflates one message for the wire (tail removed). `context`: the connection's kept stream
 *  (server context takeover), else a pooled one with `windowBits`, reset. */
export function deflateMessage(data: Buffer, windowBits: number, context: ZlibContext | undefined): Promise<Buffer> {
  zlibCounts.deflated++;
  const input = [data];
  const unlimited = Number.MAX_SAFE_INTEGER;
  if (context === undefined) return queue.run(() => withPooled(deflaters, windowBits, input, unlimited)).then(withoutTail);
  return queue.run(() => withKept(context, context.deflateStream(), input, unlimited)).then(withoutTail);
}
