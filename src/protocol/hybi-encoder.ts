// RFC 6455 server frames (unmasked). Large payloads are returned as [header, payload] so they are
// never copied; small ones are merged into one buffer, because one write beats two for them.
import { mayAppearOnWire } from './close-codes.js';
import { usageError } from './errors.js';
import type { Encoder } from './types.js';
import { Opcode } from './types.js';

/** Payloads up to this size are copied behind their header into a single buffer. */
const MERGE_LIMIT = 1024;
const MAX_CONTROL_PAYLOAD = 125;
const MAX_CLOSE_REASON = MAX_CONTROL_PAYLOAD - 2;

function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 2 : payloadLength < 0x1_0000 ? 4 : 10;
}

/** Writes a FIN frame header for opcode and payloadLength at the start of out. */
function writeHeader(out: Buffer, opcode: Opcode, payloadLength: number): void {
  out[0] = 0x80 | opcode;
  if (payloadLength < 126) {
    out[1] = payloadLength;
  } else if (payloadLength < 0x1_0000) {
    out[1] = 126;
    out[2] = payloadLength >>> 8;
    out[3] = payloadLength & 0xff;
  } else {
    // Byte stores rather than writeUInt32BE: no range checks on the hot path.
    const high = Math.floor(payloadLength / 0x1_0000_0000);
    out[1] = 127;
    out[2] = high >>> 24;
    out[3] = (high >>> 16) & 0xff;
    out[4] = (high >>> 8) & 0xff;
    out[5] = high & 0xff;
    out[6] = payloadLength >>> 24;
    out[7] = (payloadLength >>> 16) & 0xff;
    out[8] = (payloadLength >>> 8) & 0xff;
    out[9] = payloadLength & 0xff;
  }
}

/** One unfragmented frame. */
export function encodeFrame(opcode: Opcode, payload: Buffer): Buffer[] {
  const size = headerLength(payload.length);
  if (payload.length <= MERGE_LIMIT) {
    const frame = Buffer.allocUnsafe(size + payload.length);
    writeHeader(frame, opcode, payload.length);
    frame.set(payload, size);
    return [frame];
  }
  const header = Buffer.allocUnsafe(size);
  writeHeader(header, opcode, payload.length);
  return [header, payload];
}

/** Data frames (not ping, pong or close) among the whole server frames in `wire`, as encodeFrame
 *  makes them (unmasked), back to back; a frame cut short at the end counts once its first two
 *  bytes are there. */
export function countDataFrames(wire: Buffer): number {
  let count = 0;
  for (let at = 0; at + 1 < wire.length; ) {
    if ((wire[at]! & 0x08) === 0) count++;
    const short = wire[at + 1]! & 0x7f;
    if (short < 126) at += 2 + short;
    else if (at + (short === 126 ? 4 : 10) > wire.length) break;
    else if (short === 126) at += 4 + wire.readUInt16BE(at + 2);
    else at += 10 + Number(wire.readBigUInt64BE(at + 2));
  }
  return count;
}

/** A permessage-deflate message (RFC 7692 §6): one frame with RSV1 set, carrying `deflated`
 *  (the compressed bytes without their 00 00 ff ff tail). */
export function encodeDeflatedMessage(deflated: Buffer, isBinary: boolean): Buffer[] {
  const chunks = encodeFrame(isBinary ? Opcode.Binary : Opcode.Text, deflated);
  const header = chunks[0]!;
  header[0] = header[0]! | 0x40;
  return chunks;
}

function controlFrame(opcode: Opcode, data: Buffer): Buffer[] {
  if (data.length > MAX_CONTROL_PAYLOAD) {
    throw usageError(`control frame payload of ${data.length} bytes exceeds 125`);
  }
  return encodeFrame(opcode, data);
}

/** The UTF-8 bytes of reason, cut to at most max bytes without splitting a character. */
export function truncateUtf8(reason: string, max: number): Buffer {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= max) return bytes;
  let end = max;
  // Back off over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Close payload: 2-byte code + reason (truncated to fit 125 bytes); empty when code is undefined.
 *  Throws WsgateError USAGE for a code that may never be sent (1005, 1006, 1015, out of 1000-4999).
 *  Reserved codes go out: 1004 is hybi-07/08's "message too big" (DecoderOptions.tooBigCloseCode),
 *  and a peer's reserved code accepted under allowReservedStatusCodes is echoed back. */
export function closePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  if (!mayAppearOnWire(code)) throw usageError(`close code ${code} may not be sent`);
  const text = truncateUtf8(reason, MAX_CLOSE_REASON);
  const payload = Buffer.allocUnsafe(2 + text.length);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2);
  return payload;
}

export const hybiEncoder: Encoder = {
  message: (data, isBinary) => encodeFrame(isBinary ? Opcode.Binary : Opcode.Text, data),
  ping: (data) => controlFrame(Opcode.Ping, data),
  pong: (data) => controlFrame(Opcode.Pong, data),
  close: (code, reason) => encodeFrame(Opcode.Close, closePayload(code, reason)),
};
