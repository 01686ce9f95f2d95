// The draft-hixie-75/76 side of the opening handshake.
import { createHash } from 'node:crypto';
import { badRequest, usageError } from './errors.js';
import { responseHead, type HeaderList } from './http-head.js';

const MAX_KEY_NUMBER = 0xffff_ffff;

/** key-number / spaces of one Sec-WebSocket-Key1/2 value (draft-76 §5.2). */
function keyPart(key: string, name: string): number {
  const digits = key.replace(/[^0-9]/g, '');
  const spaces = key.split(' ').length - 1;
  const number = digits === '' ? 0 : Number(digits);
  // Beyond 10 digits (or 2^32-1) the draft calls the key a symptom of an attack.
  if (digits.replace(/^0+/, '').length > 10 || number > MAX_KEY_NUMBER) throw badRequest(`${name} number too large`);
  if (spaces === 0) throw badRequest(`${name} has no spaces`);
  if (number % spaces !== 0) throw badRequest(`${name} number is not a multiple of its spaces`);
  return number / spaces;
}

/** Both key parts, checked: a malformed key is refused (400) before any answer is sent. */
export function hixie76KeyParts(key1: string, key2: string): readonly [number, number] {
  return [keyPart(key1, 'Sec-WebSocket-Key1'), keyPart(key2, 'Sec-WebSocket-Key2')];
}

/** The 16-byte draft-76 answer: MD5(key1-part (32-bit BE) ‖ key2-part ‖ the 8 body bytes). */
export function hixie76Answer(key1: string, key2: string, body: Buffer): Buffer {
  return hixie76AnswerFromParts(hixie76KeyParts(key1, key2), body);
}

export function hixie76AnswerFromParts(parts: readonly [number, number], body: Buffer): Buffer {
  if (body.length !== 8) throw badRequest(`draft-76 key3 is ${body.length} bytes, not 8`);
  const challenge = Buffer.allocUnsafe(16);
  challenge.writeUInt32BE(parts[0], 0);
  challenge.writeUInt32BE(parts[1], 4);
  body.copy(challenge, 8);
  return createHash('md5').update(challenge).digest();
}

export interface HixieResponseOptions {
  version: 'hixie-76' | 'hixie-75';
  /** Echoed back; the line is left out when undefined. */
  origin: string | undefined;
  /** ws://host/path?query the client connected to. */
  location: string;
  protocol: string | undefined;
  headers: HeaderList;
  /** hixie-76: the 16-byte answer from hixie76Answer, sent right after the head. */
  answer?: Buffer;
}

/** The whole 101 answer (head, then for draft-76 the answer bytes). */
export function hixieResponse(opts: HixieResponseOptions): Buffer {
  const head = hixieResponseHead(opts);
  if (opts.version !== 'hixie-76') return head;
  if (opts.answer?.length !== 16) throw usageError('draft-76 response needs the 16-byte answer');
  return Buffer.concat([head, opts.answer]);
}

/** The status line and headers alone. A draft-76 server behind a proxy sends this first and the
 *  answer once the 8 key bytes arrive: mod_proxy relays those bytes only after the backend's head. */
export function hixieResponseHead(opts: Omit<HixieResponseOptions, 'answer'>): Buffer {
  const draft76 = opts.version === 'hixie-76';
  const prefix = draft76 ? 'Sec-WebSocket-' : 'WebSocket-';
  const lines: Array<readonly [string, string]> = [
    ['Upgrade', 'WebSocket'],
    ['Connection', 'Upgrade'],
  ];
  if (opts.origin !== undefined) lines.push([`${prefix}Origin`, opts.origin]);
  lines.push([`${prefix}Location`, opts.location]);
  if (opts.protocol) lines.push([`${prefix}Protocol`, opts.protocol]);
  const status = draft76 ? 'HTTP/1.1 101 WebSocket Protocol Handshake' : 'HTTP/1.1 101 Web Socket Protocol Handshake';
  return responseHead(status, [...lines, ...opts.headers]);
}
