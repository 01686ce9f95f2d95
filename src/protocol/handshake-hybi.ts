// The RFC 6455 / hybi-07/08 side of the opening handshake: key check, accept value, 101 answer.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { badRequest } from './errors.js';
import { headerValue } from './handshake.js';
import { responseHead, type HeaderList } from './http-head.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Canonical base64 of exactly 16 bytes: 22 characters and "==". The 22nd character carries the
 *  last 2 bits of data and 4 padding bits, which must be zero: only A, Q, g or w. */
const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** The Sec-WebSocket-Key, checked to be the canonical base64 of 16 bytes (one header line only). */
export function validateHybiKey(headers: IncomingHttpHeaders): string {
  const key = headerValue(headers, 'sec-websocket-key').trim();
  if (!KEY_PATTERN.test(key)) throw badRequest('Sec-WebSocket-Key is not the base64 of 16 bytes (22 characters, the last one A, Q, g or w, then "==")');
  return key;
}

/** Sec-WebSocket-Accept: base64(SHA-1(key + GUID)). */
export function hybiAcceptKey(key: string): string {
  return createHash('sha1').update(key + GUID, 'latin1').digest('base64');
}

/** The whole 101 head. protocol undefined or '' → no Sec-WebSocket-Protocol line. Throws
 *  WsgateError HANDLER_FAILED (status 500) for a header that would corrupt the response. */
export function hybiResponse(accept: string, protocol: string | undefined, headers: HeaderList): Buffer {
  const lines: Array<readonly [string, string]> = [
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Accept', accept],
  ];
  if (protocol) lines.push(['Sec-WebSocket-Protocol', protocol]);
  return responseHead('HTTP/1.1 101 Switching Protocols', [...lines, ...headers]);
}
