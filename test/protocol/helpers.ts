// Test helpers: a client-side frame builder written from RFC 6455 §5.2 (independent of the
// encoder under test), a sink that records events, and ways to feed a stream in pieces.
import type { WsgateError } from '../../src/errors.js';
import type { Decoder, DecoderOptions, DecoderSink } from '../../src/protocol/index.js';

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  /** RSV1-3 as a 3-bit number. */
  rsv?: number;
  /** 4 mask bytes; false for an unmasked frame. Default: a fixed non-trivial mask. */
  mask?: Buffer | false;
  /** Force the length encoding: 7-bit, 16-bit or 64-bit (for non-minimal encodings). */
  lengthBytes?: 0 | 2 | 8;
  /** Override the length field (lie about the payload length). */
  declaredLength?: number | bigint;
}

export const DEFAULT_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export function frame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload, 'utf8') : (spec.payload ?? Buffer.alloc(0));
  const mask = spec.mask === undefined ? DEFAULT_MASK : spec.mask;
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const lengthBytes = spec.lengthBytes ?? (declared < 126n ? 0 : declared < 65536n ? 2 : 8);
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | ((spec.rsv ?? 0) << 4) | spec.opcode];
  const maskBit = mask ? 0x80 : 0;
  if (lengthBytes === 0) head.push(maskBit | Number(declared));
  else if (lengthBytes === 2) head.push(maskBit | 126, Number(declared >> 8n) & 0xff, Number(declared) & 0xff);
  else {
    head.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) head.push(Number((declared >> shift) & 0xffn));
  }
  const body = Buffer.from(payload);
  if (mask) {
    head.push(...mask);
    for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i % 4]!;
  }
  return Buffer.concat([Buffer.from(head), body]);
}

export type DecoderEvent =
  | { type: 'message'; data: string; isBinary: boolean }
  | { type: 'ping' | 'pong'; data: string }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; code: string; closeCode: number | undefined; message: string };

/** Records events; binary data as hex so results compare with toEqual. */
export class RecordingSink implements DecoderSink {
  readonly events: DecoderEvent[] = [];
  readonly errors: WsgateError[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.events.push({ type: 'message', data: isBinary ? data.toString('hex') : data.toString('utf8'), isBinary });
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data: data.toString('hex') });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data: data.toString('hex') });
  }
  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  onError(error: WsgateError): void {
    this.errors.push(error);
    this.events.push({ type: 'error', code: error.code, closeCode: error.closeCode, message: error.message });
  }
}

export type DecoderFactory = (sink: DecoderSink, options: DecoderOptions) => Decoder;

/** Feeds copies of the pieces (decoders may unmask in place) and returns the events. */
export function decodePieces(factory: DecoderFactory, pieces: Buffer[], options: DecoderOptions): DecoderEvent[] {
  const sink = new RecordingSink();
  const decoder = factory(sink, options);
  for (const piece of pieces) decoder.push(Buffer.from(piece));
  return sink.events;
}

export function decodeWhole(factory: DecoderFactory, stream: Buffer, options: DecoderOptions): DecoderEvent[] {
  return decodePieces(factory, [stream], options);
}

/** The stream split in two at every byte boundary: each result must equal the whole decode. */
export function everySplit(stream: Buffer): Buffer[][] {
  const splits: Buffer[][] = [];
  for (let i = 1; i < stream.length; i++) splits.push([stream.subarray(0, i), stream.subarray(i)]);
  return splits;
}

export function byteByByte(stream: Buffer): Buffer[] {
  return Array.from(stream, (b) => Buffer.from([b]));
}

export const SERVER: DecoderOptions = { maxMessageSize: 1 << 20, requireMask: true };
