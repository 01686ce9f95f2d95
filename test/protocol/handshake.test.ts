import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import {
  detectHandshake,
  errorResponse,
  handshakeErrorResponse,
  hixie76Answer,
  hixieResponse,
  hybiAcceptKey,
  hybiResponse,
  offeredProtocols,
  requestOrigin,
  validateHybiKey,
} from '../../src/protocol/index.js';

const hybi = (extra: IncomingHttpHeaders = {}): IncomingHttpHeaders => ({
  host: 'example.com',
  upgrade: 'websocket',
  connection: 'keep-alive, Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
  ...extra,
});

function thrown(fn: () => unknown): WsgateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WsgateError);
    return err as WsgateError;
  }
  throw new Error('expected a WsgateError');
}

describe('detectHandshake', () => {
  it('recognises hybi 13, 8 and 7', () => {
    for (const version of [13, 8, 7] as const) {
      const headers = hybi({ 'sec-websocket-version': String(version) });
      expect(detectHandshake({ method: 'GET', httpVersion: '1.1', headers })).toEqual({ kind: 'hybi', version });
    }
  });
  it('recognises hixie-76 (both keys) and hixie-75 (no keys)', () => {
    const base = { host: 'example.com', upgrade: 'WebSocket', connection: 'Upgrade', origin: 'http://example.com' };
    const keys = { 'sec-websocket-key1': '4 @1  46546xW%0l 1 5', 'sec-websocket-key2': '12998 5 Y3 1  .P00' };
    expect(detectHandshake({ method: 'GET', httpVersion: '1.1', headers: { ...base, ...keys } })).toEqual({ kind: 'hixie-76' });
    expect(detectHandshake({ method: 'GET', httpVersion: '1.1', headers: base })).toEqual({ kind: 'hixie-75' });
    const oneKey = { ...base, 'sec-websocket-key1': keys['sec-websocket-key1'] };
    expect(thrown(() => detectHandshake({ method: 'GET', httpVersion: '1.1', headers: oneKey })).status).toBe(400);
  });
  it('rejects unsupported versions with HANDSHAKE_VERSION and answers with the supported list', () => {
    for (const version of ['6', '14', '13, 8', '', 'x']) {
      const error = thrown(() => detectHandshake({ method: 'GET', httpVersion: '1.1', headers: hybi({ 'sec-websocket-version': version }) }));
      expect(error).toMatchObject({ code: 'HANDSHAKE_VERSION', status: 400 });
      const answer = handshakeErrorResponse(error).toString('latin1');
      expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(answer).toContain('\r\nSec-WebSocket-Version: 13, 8, 7\r\n');
    }
    const noVersion = hybi();
    delete noVersion['sec-websocket-version'];
    expect(thrown(() => detectHandshake({ method: 'GET', httpVersion: '1.1', headers: noVersion })).code).toBe('HANDSHAKE_VERSION');
  });
  it('rejects non-WebSocket and malformed requests with 400', () => {
    const bad: Array<[string, string, IncomingHttpHeaders]> = [
      ['POST', '1.1', hybi()],
      [undefined as unknown as string, '1.1', hybi()],
      ['GET', '1.0', hybi()],
      ['GET', '1.1', hybi({ upgrade: 'h2c' })],
      ['GET', '1.1', hybi({ connection: 'keep-alive' })],
      ['GET', '1.1', hybi({ host: '' })],
    ];
    for (const [method, httpVersion, headers] of bad) {
      expect(thrown(() => detectHandshake({ method, httpVersion, headers }))).toMatchObject({ code: 'HANDSHAKE_BAD_REQUEST', status: 400 });
    }
    expect(detectHandshake({ method: 'GET', httpVersion: '2.0', headers: hybi({ upgrade: 'WebSocket' }) })).toEqual({ kind: 'hybi', version: 13 });
  });
});

describe('offered protocols and origin', () => {
  const hixie = { kind: 'hixie-76' } as const;
  it('splits Sec-WebSocket-Protocol on commas and whitespace over all lines (hixie: as read before)', () => {
    expect(offeredProtocols({ 'sec-websocket-protocol': 'chat, superchat,,  v2\tv3' }, hixie)).toEqual(['chat', 'superchat', 'v2', 'v3']);
    expect(offeredProtocols({ 'sec-websocket-protocol': ['a, b', 'c'] as unknown as string }, hixie)).toEqual(['a', 'b', 'c']);
    expect(offeredProtocols({ 'websocket-protocol': 'sample' }, { kind: 'hixie-75' })).toEqual(['sample']);
    expect(offeredProtocols({}, hixie)).toEqual([]);
  });
  it('versions 13, 8, 7: accepts a list of RFC 7230 tokens, OWS around commas, over several lines', () => {
    for (const version of [13, 8, 7] as const) {
      const kind = { kind: 'hybi', version } as const;
      expect(offeredProtocols({ 'sec-websocket-protocol': 'chat, superchat ,\tv2.json' }, kind)).toEqual(['chat', 'superchat', 'v2.json']);
      expect(offeredProtocols({ 'sec-websocket-protocol': ['a, b', 'c'] as unknown as string }, kind)).toEqual(['a', 'b', 'c']);
      expect(offeredProtocols({ 'sec-websocket-protocol': "!#$%&'*+-.^_`|~09azAZ" }, kind)).toEqual(["!#$%&'*+-.^_`|~09azAZ"]);
      expect(offeredProtocols({}, kind)).toEqual([]);
    }
  });
  it('versions 13, 8, 7: refuses a Sec-WebSocket-Protocol that is not a list of tokens with 400', () => {
    const bad = ['', ' ', 'chat,', ',chat', 'chat,,v2', 'chat, ,v2', 'my chat', '"quoted"', 'a/b', 'a\\b', '{}', 'a;b', 'a\tb', 'a\u0001b', 'a\u007fb', 'a=b', 'a@b', 'ä'];
    for (const version of [13, 8, 7] as const) {
      for (const value of bad) {
        const error = thrown(() => offeredProtocols({ 'sec-websocket-protocol': value }, { kind: 'hybi', version }));
        expect(error, JSON.stringify(value)).toMatchObject({ code: 'HANDSHAKE_BAD_REQUEST', status: 400 });
        expect(error.message).toMatch(/Sec-WebSocket-Protocol/);
      }
      // Several header lines are one list: an empty line is an empty element.
      const lines = ['chat', ''] as unknown as string;
      expect(thrown(() => offeredProtocols({ 'sec-websocket-protocol': lines }, { kind: 'hybi', version })).status).toBe(400);
    }
  });
  it('reads Origin for 13 and hixie, Sec-WebSocket-Origin (then Origin) for 7/8', () => {
    const headers = { origin: 'http://a.example', 'sec-websocket-origin': 'http://b.example' };
    expect(requestOrigin({ kind: 'hybi', version: 13 }, headers)).toBe('http://a.example');
    expect(requestOrigin({ kind: 'hixie-76' }, headers)).toBe('http://a.example');
    expect(requestOrigin({ kind: 'hybi', version: 8 }, headers)).toBe('http://b.example');
    expect(requestOrigin({ kind: 'hybi', version: 7 }, { origin: 'http://a.example' })).toBe('http://a.example');
    expect(requestOrigin({ kind: 'hybi', version: 13 }, {})).toBeUndefined();
  });
});

describe('hybi handshake', () => {
  it("computes RFC 6455's example accept value", () => {
    expect(hybiAcceptKey(validateHybiKey(hybi()))).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
  it('rejects keys that are not the canonical base64 of 16 bytes', () => {
    // The 22nd character holds 4 padding bits, which must be zero: only A, Q, g, w.
    const nonCanonical = ['dGhlIHNhbXBsZSBub25jZR==', 'dGhlIHNhbXBsZSBub25jZB==', 'dGhlIHNhbXBsZSBub25jZ/==', 'AAAAAAAAAAAAAAAAAAAAAx=='];
    for (const key of ['', 'abc', 'dGhlIHNhbXBsZSBub25jZQ', 'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZXg=', 'dGhlIHNhbXBsZSBub25j!Q==', 'dGhlIHNhbXBsZSBub25jZQ===', ...nonCanonical]) {
      expect(thrown(() => validateHybiKey(hybi({ 'sec-websocket-key': key }))).status).toBe(400);
    }
    expect(thrown(() => validateHybiKey(hybi({ 'sec-websocket-key': undefined }))).status).toBe(400);
    for (const last of 'AQgw') {
      const key = `AAAAAAAAAAAAAAAAAAAAA${last}==`;
      expect(validateHybiKey(hybi({ 'sec-websocket-key': key }))).toBe(key);
      expect(Buffer.from(key, 'base64')).toHaveLength(16);
    }
  });
  it('writes the whole 101 head, with protocol and extra headers', () => {
    const head = hybiResponse('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'chat', [['X-Served-By', 'wsgate']]).toString('latin1');
    expect(head).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\nX-Served-By: wsgate\r\n\r\n',
    );
    expect(hybiResponse('x', undefined, []).toString()).not.toContain('Sec-WebSocket-Protocol');
  });
  it('refuses header names and values that would corrupt the response', () => {
    expect(thrown(() => hybiResponse('x', 'chat\r\nX-Evil: 1', [])).status).toBe(500);
    expect(thrown(() => hybiResponse('x', undefined, [['Bad Name', 'v']])).status).toBe(500);
    expect(thrown(() => hybiResponse('x', undefined, [['X-A', 'v\n']])).status).toBe(500);
  });
});

describe('hixie handshake', () => {
  it("answers draft-76 §1.3's example with 8jKS'y:G*Co,Wxa-", () => {
    const answer = hixie76Answer('4 @1  46546xW%0l 1 5', '12998 5 Y3 1  .P00', Buffer.from('^n:ds[4U', 'latin1'));
    expect(answer.toString('latin1')).toBe("8jKS'y:G*Co,Wxa-");
  });
  it("answers draft-76 §5.2's example (key numbers 155712099, 173347027) with fQJ,fN/4F4!~K~MH", () => {
    const key1 = '18x 6]8vM;54 *(5:  {   U1]8  z [  8';
    const key2 = '1_ tx7X d  <  nw  334J702) 7]o}` 0';
    expect(hixie76Answer(key1, key2, Buffer.from('Tm[K T2u', 'latin1')).toString('latin1')).toBe('fQJ,fN/4F4!~K~MH');
    // With a final "3" instead of "0" the number 1733470273 is not a multiple of its 10 spaces.
    expect(thrown(() => hixie76Answer(key1, key2.replace(/0$/, '3'), Buffer.alloc(8))).status).toBe(400);
  });
  it('rejects keys without spaces, with too large numbers, and a key3 that is not 8 bytes', () => {
    expect(thrown(() => hixie76Answer('12345', '1 2', Buffer.alloc(8))).message).toMatch(/no spaces/);
    expect(thrown(() => hixie76Answer('4294967296 ', '1 2', Buffer.alloc(8))).message).toMatch(/too large/);
    expect(thrown(() => hixie76Answer('1 2', '1 2', Buffer.alloc(7))).status).toBe(400);
    expect(hixie76Answer('4294967295 ', '0000000000000004294967295 ', Buffer.alloc(8))).toHaveLength(16);
  });
  it('writes the draft-76 answer: head, then the 16 bytes', () => {
    const answer = Buffer.from("8jKS'y:G*Co,Wxa-", 'latin1');
    const out = hixieResponse({
      version: 'hixie-76',
      origin: 'http://example.com',
      location: 'ws://example.com/demo',
      protocol: 'sample',
      headers: [],
      answer,
    });
    expect(out.toString('latin1')).toBe(
      'HTTP/1.1 101 WebSocket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Origin: http://example.com\r\nSec-WebSocket-Location: ws://example.com/demo\r\n' +
        "Sec-WebSocket-Protocol: sample\r\n\r\n8jKS'y:G*Co,Wxa-",
    );
  });
  it('writes the draft-75 answer', () => {
    const out = hixieResponse({ version: 'hixie-75', origin: 'http://o', location: 'ws://h/p', protocol: undefined, headers: [['X-A', 'b']] });
    expect(out.toString('latin1')).toBe(
      'HTTP/1.1 101 Web Socket Protocol Handshake\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n' +
        'WebSocket-Origin: http://o\r\nWebSocket-Location: ws://h/p\r\nX-A: b\r\n\r\n',
    );
  });
});

describe('errorResponse', () => {
  it('is a complete response with Connection: close and a correct Content-Length', () => {
    const out = errorResponse(403, [['X-Why', 'origin']], 'nope ✗').toString('latin1');
    const [head, body] = out.split('\r\n\r\n') as [string, string];
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 403 Forbidden');
    expect(head).toContain('\r\nConnection: close');
    expect(head).toContain('\r\nX-Why: origin');
    const length = Number(/Content-Length: (\d+)/.exec(head)![1]);
    expect(length).toBe(Buffer.byteLength('nope ✗'));
    expect(Buffer.from(body, 'latin1').toString('utf8')).toBe('nope ✗');
    expect(errorResponse(503).toString()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*\r\n\r\nService Unavailable\n$/);
  });
});
