// permessage-deflate on one connection: inflating what arrives and deflating what goes out, with
// the order of everything else (pings, close, uncompressed messages) kept around the zlib work,
// which is asynchronous (zlib-work.ts). Handlers and C plugins only ever see plain messages.
//
// - In: a compressed message is inflated (its size counted against MaxMessageSize as it grows,
//   text checked as UTF-8 afterwards); later events wait behind it and the socket is paused until
//   they are delivered, so a peer cannot queue more than one socket read of work.
// - Out: messages of at least WebSocketCompressionThreshold bytes are deflated, one job at a time
//   per connection; frames written meanwhile (and the end of TCP) wait their turn.
import type { WsgateError } from '../errors.js';
import { WsgateError as GatewayError } from '../errors.js';
import { deflateWindowBits, encodeDeflatedMessage, isValidUtf8, type DeflateParams, type DecoderSink } from '../protocol/index.js';
import { tooBigError, utf8Error } from '../protocol/errors.js';
import type { DeferredFrame, SharedDeflates } from '../registry/local.js';
import { deflateMessage, inflateMessage, InflateLimitError, ZlibContext } from './zlib-work.js';

/** The negotiated extension of one connection. */
export class CompressionSession {
  private readonly windowBits: number;
  private readonly context: ZlibContext | undefined;

  constructor(
    readonly params: DeflateParams,
    /** Messages shorter than this go out uncompressed. */
    private readonly threshold: number,
  ) {
    this.windowBits = deflateWindowBits(params.serverMaxWindowBits);
    const keepsContext = !params.serverNoContextTakeover || !params.clientNoContextTakeover;
    this.context = keepsContext ? new ZlibContext(this.windowBits) : undefined;
  }

  /** How to make the frame of an outgoing message: undefined = plain (under the threshold), else
   *  a job that deflates it when the connection's output reaches it. */
  deflateJob(payload: Buffer, isBinary: boolean, shared?: SharedDeflates): DeferredFrame | undefined {
    if (payload.length < this.threshold) return undefined;
    const bytes = payload.length;
    if (shared !== undefined && this.params.serverNoContextTakeover) {
      // Without context the bytes depend on the window only: the first receiver to get here deflates.
      const bits = this.windowBits;
      const make = (): Promise<Buffer[]> => {
        let frame = shared.get(bits);
        if (frame === undefined) shared.set(bits, (frame = this.deflate(payload, isBinary)));
        return frame;
      };
      return { bytes, make };
    }
    return { bytes, make: () => this.deflate(payload, isBinary) };
  }

  private deflate(payload: Buffer, isBinary: boolean): Promise<Buffer[]> {
    const context = this.params.serverNoContextTakeover ? undefined : this.context;
    return deflateMessage(payload, this.windowBits, context).then((deflated) => encodeDeflatedMessage(deflated, isBinary));
  }

  inflate(data: Buffer, limit: number): Promise<Buffer> {
    return inflateMessage(data, limit, this.params.clientNoContextTakeover ? undefined : this.context);
  }

  close(): void {
    this.context?.close();
  }
}

/** What InflatingSink needs from the connection besides the DecoderSink events. */
export interface InflatingTarget extends DecoderSink {
  pauseInput(): void;
  resumeInput(): void;
}

type Delivery = () => void;

/** Sits between the decoder and the connection: inflates compressed messages and delivers every
 *  event in the order the decoder found them. */
export class InflatingSink implements DecoderSink {
  private readonly waiting: Array<Delivery | (() => Promise<void>)> = [];
  private busy = false;
  private stopped = false;

  constructor(
    private readonly target: InflatingTarget,
    private readonly session: CompressionSession,
    private readonly maxMessageSize: number,
    private readonly tooBigCloseCode: number,
  ) {}

  onMessage(data: Buffer, isBinary: boolean, compressed?: boolean): void {
    if (this.stopped) return;
    if (compressed !== true) {
      this.deliver(() => this.target.onMessage(data, isBinary));
      return;
    }
    this.waiting.push(async () => {
      const plain = await this.session.inflate(data, this.maxMessageSize);
      if (!isBinary && !isValidUtf8(plain)) throw utf8Error('invalid UTF-8 in a text message');
      if (!this.stopped) this.target.onMessage(plain, isBinary);
    });
    if (!this.busy) void this.drain();
  }

  onPing(data: Buffer): void {
    this.deliver(() => this.target.onPing(data));
  }

  onPong(data: Buffer): void {
    this.deliver(() => this.target.onPong(data));
  }

  onClose(code: number, reason: string): void {
    this.deliver(() => this.target.onClose(code, reason));
  }

  onError(error: WsgateError): void {
    this.deliver(() => this.target.onError(error));
  }

  /** The connection is gone: nothing more is delivered. */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
  }

  private deliver(event: Delivery): void {
    if (this.stopped) return;
    if (this.busy) this.waiting.push(event);
    else event();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    this.target.pauseInput();
    while (this.waiting.length > 0 && !this.stopped) {
      const next = this.waiting.shift()!;
      try {
        await next();
      } catch (err) {
        this.fail(err);
        return;
      }
    }
    this.busy = false;
    if (!this.stopped) this.target.resumeInput();
  }

  private fail(err: unknown): void {
    const stopped = this.stopped;
    this.stop();
    if (stopped) return;
    if (err instanceof InflateLimitError) this.target.onError(tooBigError(this.maxMessageSize, this.tooBigCloseCode));
    else if (err instanceof GatewayError) this.target.onError(err);
    // zlib refused the data (bad block type, distance too far back…): like invalid UTF-8, the
    // message's content is not what its type says.
    else this.target.onError(new GatewayError('PROTOCOL_ERROR', `invalid compressed data: ${(err as Error).message}`, { closeCode: 1007 }));
    // Read on, so the peer's close frame and FIN are seen (and ignored) while the close completes.
    this.target.resumeInput();
  }
}

const END = Symbol('end');
/** `queued`: a broadcast's frame, handed to the target's send queue (the output scheduler writes it)
 *  rather than to the socket when its turn comes. */
type Outgoing = { frame: Buffer[] | DeferredFrame | typeof END; bytes: number; queued: boolean };

/** What OrderedOutput writes to. */
export interface OutputTarget {
  writeNow(chunks: Buffer[]): void;
  /** A broadcast frame's turn: into the send queue, for the output scheduler's slices. */
  queueFrame(chunks: Buffer[]): void;
  endNow(): void;
  /** A deflate job failed: the connection cannot go on. */
  outputFailed(err: unknown): void;
}

/** The connection's outgoing frames in order, deflate jobs among them. */
export class OrderedOutput {
  private readonly items: Outgoing[] = [];
  /** Bytes waiting here (uncompressed size for jobs not yet done): counted with the socket's queue. */
  queuedBytes = 0;

  /** Frames waiting here: each also costs its overhead against the send queue limit. */
  get queuedCount(): number {
    return this.items.length;
  }

  constructor(private readonly target: OutputTarget) {}

  write(frame: Buffer[] | DeferredFrame, queued = false): void {
    if (!Array.isArray(frame)) this.push({ frame, bytes: frame.bytes, queued });
    else if (this.items.length === 0) this.hand(frame, queued);
    else this.push({ frame, bytes: frame.reduce((n, chunk) => n + chunk.length, 0), queued });
  }

  /** Ends TCP after what is queued. */
  end(): void {
    if (this.items.length === 0) this.target.endNow();
    else this.push({ frame: END, bytes: 0, queued: false });
  }

  /** The socket is gone: drop what waits. */
  clear(): void {
    this.items.length = 0;
    this.queuedBytes = 0;
  }

  private push(item: Outgoing): void {
    this.items.push(item);
    this.queuedBytes += item.bytes;
    if (this.items.length === 1) void this.pump();
  }

  private async pump(): Promise<void> {
    while (this.items.length > 0) {
      const item = this.items[0]!;
      let chunks: Buffer[];
      if (item.frame === END) {
        this.clear();
        this.target.endNow();
        return;
      }
      if (!Array.isArray(item.frame)) {
        try {
          chunks = await item.frame.make();
        } catch (err) {
          this.clear();
          this.target.outputFailed(err);
          return;
        }
        // clear() ran while the job did: the socket is gone.
        if (this.items[0] !== item) return;
      } else {
        chunks = item.frame;
      }
      this.items.shift();
      this.queuedBytes -= item.bytes;
      this.hand(chunks, item.queued);
    }
  }

  private hand(chunks: Buffer[], queued: boolean): void {
    if (queued) this.target.queueFrame(chunks);
    else this.target.writeNow(chunks);
  }
}
