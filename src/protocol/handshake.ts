// Recognising a WebSocket opening handshake and reading what it offers. node:http has already
// parsed the request; these functions only look at method, version and headers.
import type { IncomingHttpHeaders } from 'node:http';
import { WsgateError } from '../errors.js';
import { badRequest } from './errors.js';
import { errorResponse } from './http-head.js';

export interface HandshakeRequest {
  /** Optional so that a node:http IncomingMessage can be passed as it is. */
  method?: string | undefined;
  httpVersion: string;
  headers: IncomingHttpHeaders;
}

export type HandshakeKind = { kind: 'hybi'; version: 13 | 8 | 7 } | { kind: 'hixie-76' } | { kind: 'hixie-75' };

/** Value of the Sec-WebSocket-Version header to send with a HANDSHAKE_VERSION answer. */
export const SUPPORTED_VERSIONS = '13, 8, 7';
export const SUPPORTED_VERSIONS_HEADER: readonly [string, string] = ['Sec-WebSocket-Version', SUPPORTED_VERSIONS];

/** All lines of a header as one comma-joined string ('' when absent). */
export function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  if (value === undefined) return '';
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Comma-separated list elements, trimmed and lower-cased. */
function tokens(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

function hasHeader(headers: IncomingHttpHeaders, name: string): boolean {
  return headers[name] !== undefined;
}

/** HTTP/1.1 or later ("1.1", "1.2", "2.0"…). */
function isHttp11OrLater(version: string): boolean {
  const match = /^(\d+)\.(\d+)$/.exec(version);
  if (!match) return false;
  const major = Number(match[1]);
  return major > 1 || (major === 1 && Number(match[2]) >= 1);
}

function versionError(value: string): WsgateError {
  return new WsgateError(
    'HANDSHAKE_VERSION',
    `unsupported Sec-WebSocket-Version ${JSON.stringify(value)} (supported: ${SUPPORTED_VERSIONS})`,
    { status: 400 },
  );
}

/** Which protocol a request speaks. Throws WsgateError status 400: HANDSHAKE_BAD_REQUEST for a
 *  request that is not a (well-formed) WebSocket handshake, HANDSHAKE_VERSION for an unknown
 *  Sec-WebSocket-Version (answer it with SUPPORTED_VERSIONS_HEADER). Sec-WebSocket-Key is checked
 *  separately by validateHybiKey. */
export function detectHandshake(req: HandshakeRequest): HandshakeKind {
  const { headers } = req;
  if (req.method !== 'GET') throw badRequest(`method ${req.method ?? '(none)'} is not GET`);
  if (!tokens(headerValue(headers, 'upgrade')).includes('websocket')) {
    throw badRequest('missing "Upgrade: websocket"');
  }
  if (!tokens(headerValue(headers, 'connection')).includes('upgrade')) {
    throw badRequest('missing "Connection: Upgrade"');
  }
  if (headerValue(headers, 'host').trim() === '') throw badRequest('missing Host header');

  if (hasHeader(headers, 'sec-websocket-version') || hasHeader(headers, 'sec-websocket-key')) {
    const raw = headerValue(headers, 'sec-websocket-version').trim();
    const version = raw === '13' ? 13 : raw === '8' ? 8 : raw === '7' ? 7 : undefined;
    if (version === undefined) throw versionError(raw);
    if (!isHttp11OrLater(req.httpVersion)) throw badRequest(`HTTP/${req.httpVersion} handshake (HTTP/1.1 required)`);
    return { kind: 'hybi', version };
  }
  const hasKey1 = hasHeader(headers, 'sec-websocket-key1');
  const hasKey2 = hasHeader(headers, 'sec-websocket-key2');
  if (hasKey1 && hasKey2) return { kind: 'hixie-76' };
  if (hasKey1 || hasKey2) throw badRequest('draft-76 handshake with only one of Sec-WebSocket-Key1/Key2');
  return { kind: 'hixie-75' };
}

/** RFC 7230 tchar. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Why a Sec-WebSocket-Protocol value is not RFC 6455's `1#token` (RFC 7230 list: tokens
 *  separated by commas, optional spaces/tabs around them), or undefined when it is. */
function protocolListProblem(value: string): string | undefined {
  const elements = value.split(',').map((e) => e.replace(/^[ \t]+|[ \t]+$/g, ''));
  for (const element of elements) {
    if (element === '') return 'Sec-WebSocket-Protocol has an empty list element';
    if (!TOKEN.test(element)) return `Sec-WebSocket-Protocol element ${JSON.stringify(element)} is not a token (letters, digits and !#$%&'*+-.^_\`|~ only)`;
  }
  return undefined;
}

/** Subprotocols the client offers, in order: Sec-WebSocket-Protocol (hixie-75: WebSocket-Protocol),
 *  every header line, split on commas and whitespace, empty entries dropped (what native plugins'
 *  protocol_count/protocol_index see). For versions 13, 8 and 7 the header must first be a list of
 *  tokens (RFC 6455 §4.2.1): anything else throws WsgateError HANDSHAKE_BAD_REQUEST (400). Hixie
 *  drafts are read as before. */
export function offeredProtocols(headers: IncomingHttpHeaders, kind: HandshakeKind): string[] {
  const value = hasHeader(headers, 'sec-websocket-protocol')
    ? headerValue(headers, 'sec-websocket-protocol')
    : headerValue(headers, 'websocket-protocol');
  if (kind.kind === 'hybi' && hasHeader(headers, 'sec-websocket-protocol')) {
    const problem = protocolListProblem(value);
    if (problem !== undefined) throw badRequest(problem);
  }
  return value.split(/[,\s]+/).filter((p) => p !== '');
}

function firstLine(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Origin the client declared: Sec-WebSocket-Origin for hybi-07/08 (falling back to Origin),
 *  Origin for version 13 and hixie. */
export function requestOrigin(kind: HandshakeKind, headers: IncomingHttpHeaders): string | undefined {
  if (kind.kind === 'hybi' && kind.version !== 13) {
    return firstLine(headers, 'sec-websocket-origin') ?? firstLine(headers, 'origin');
  }
  return firstLine(headers, 'origin');
}

/** The HTTP answer to a failed handshake: error.status (400 when unset), plus
 *  `Sec-WebSocket-Version: 13, 8, 7` for HANDSHAKE_VERSION (RFC 6455 §4.4). */
export function handshakeErrorResponse(error: WsgateError): Buffer {
  const headers = error.code === 'HANDSHAKE_VERSION' ? [SUPPORTED_VERSIONS_HEADER] : [];
  return errorResponse(error.status ?? 400, headers);
}
