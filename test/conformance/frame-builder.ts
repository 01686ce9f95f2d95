// An independent client-side RFC 6455 frame builder, deliberately not the project's encoder:
// a second implementation written from the RFC catches bugs the first one would share.
import { randomBytes } from 'node:crypto';

export const OP = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** Default true. */
  fin?: boolean;
  /** RSV bits as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
  rsv?: number;
  /** Default true: clients must mask (RFC 6455 §5.1). */
  masked?: boolean;
  /** Fixed masking key (4 bytes); random when absent. */
  maskKey?: Buffer;
}

export function toBytes(payload: Buffer | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

/** Header bytes for a payload of `length`: 7-bit, 16-bit (126) or 64-bit (127) length form. */
function lengthField(length: number, maskBit: number): Buffer {
  if (length < 126) return Buffer.from([maskBit | length]);
  if (length < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = maskBit | 126;
    b.writeUInt16BE(length, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = maskBit | 127;
  b.writeBigUInt64BE(BigInt(length), 1);
  return b;
}

export function buildFrame(spec: FrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const fin = spec.fin ?? true;
  const masked = spec.masked ?? true;
  const first = Buffer.from([(fin ? 0x80 : 0) | ((spec.rsv ?? 0) & 0x7) << 4 | (spec.opcode & 0xf)]);
  const len = lengthField(payload.length, masked ? 0x80 : 0);
  if (!masked) return Buffer.concat([first, len, payload]);
  const key = spec.maskKey ?? randomBytes(4);
  const body = Buffer.allocUnsafe(payload.length);
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([first, len, key, body]);
}

/** A close frame payload: 2-byte code then the reason, or exactly the given raw bytes. */
export function closePayload(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, toBytes(reason)]);
}

/** Splits a message into `count` fragments (first carries the opcode, the rest are continuations). */
export function fragment(opcode: number, payload: Buffer, sizes: number[]): FrameSpec[] {
  const frames: FrameSpec[] = [];
  let offset = 0;
  sizes.forEach((size, i) => {
    frames.push({
      opcode: i === 0 ? opcode : OP.continuation,
      payload: payload.subarray(offset, offset + size),
      fin: i === sizes.length - 1,
    });
    offset += size;
  });
  if (offset !== payload.length) throw new Error(`fragment sizes add up to ${offset}, payload is ${payload.length}`);
  return frames;
}

/** Fragment sizes that cut `length` bytes into pieces of `piece` bytes. */
export function pieces(length: number, piece: number): number[] {
  const sizes: number[] = [];
  for (let left = length; left > 0; left -= piece) sizes.push(Math.min(piece, left));
  return sizes.length === 0 ? [0] : sizes;
}
