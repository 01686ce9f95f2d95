// permessage-deflate (RFC 7692) at the protocol layer: offer parsing and the server's answer for
// every parameter combination, RSV1 in the decoder, RSV1 in the encoder. Bytes and strings only.
import { deflateRawSync, constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { WsgateError } from '../../src/errors.js';
import {
  createHybiDecoder,
  encodeDeflatedMessage,
  negotiatePerMessageDeflate,
  parseExtensionOffers,
  type DecoderSink,
  type DeflatePolicy,
} from '../../src/protocol/index.js';
import { frame, SERVER } from './helpers.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const SAFE: DeflatePolicy = { contextTakeover: false, maxWindowBits: 15 };
const TAKEOVER: DeflatePolicy = { contextTakeover: true, maxWindowBits: 15 };
const answer = (header: string, policy = SAFE): string | undefined => negotiatePerMessageDeflate(header, policy)?.response;

describe('Sec-WebSocket-Extensions parsing (RFC 6455 §9.1)', () => {
  it('reads names and parameters, tokens and quoted strings, several elements', () => {
    expect(parseExtensionOffers('permessage-deflate; client_max_window_bits, x-foo;a="1 2";B=3 ,mux')).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
      { name: 'x-foo', params: [['a', '1 2'], ['b', '3']] },
      { name: 'mux', params: [] },
    ]);
  });
  it('keeps a comma inside a quoted value, unescapes quoted pairs', () => {
    expect(parseExtensionOffers('a; p="x,\\"y"')).toEqual([{ name: 'a', params: [['p', 'x,"y']] }]);
  });
  it('is undefined for what is not a list of extensions', () => {
    for (const bad of ['a; p="open', 'a b', 'a; =1', 'a; p=1 2', '; p', 'a; p=']) expect(parseExtensionOffers(bad), bad).toBeUndefined();
  });
});

describe('negotiation, safe default policy (no context takeover either way)', () => {
  // The offers Autobahn's sections 12 and 13 make (PerMessageDeflateOffer: accept* → client_*, request* → server_*).
  const autobahn: Array<[string, string, string]> = [
    ['13.1 default offer', 'permessage-deflate; client_no_context_takeover; client_max_window_bits', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
    ['13.2 server_no_context_takeover', 'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
    ['13.3 server_max_window_bits=8', 'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=8', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8'],
    ['13.4 server_max_window_bits=15', 'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_max_window_bits=15', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15'],
    ['13.5 both, 8', 'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8'],
    ['13.6 both, 15', 'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=15', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15'],
    [
      '13.7 three offers: the first acceptable one wins',
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8, permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, permessage-deflate; client_no_context_takeover; client_max_window_bits',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8',
    ],
    ['12.x / browsers', 'permessage-deflate; client_max_window_bits', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
    ['bare', 'permessage-deflate', 'permessage-deflate; server_no_context_takeover; client_no_context_takeover'],
  ];
  it.each(autobahn)('%s', (_name, offer, expected) => {
    expect(answer(offer)).toBe(expected);
  });

  it('agreed parameters say what each side uses', () => {
    expect(negotiatePerMessageDeflate('permessage-deflate; server_max_window_bits=10; client_max_window_bits=12', SAFE)?.params).toEqual({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 12,
    });
  });
  it('an offered client_max_window_bits value is answered (never a larger one)', () => {
    expect(answer('permessage-deflate; client_max_window_bits=9')).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=9');
  });
  it('skips other extensions and answers only permessage-deflate', () => {
    expect(answer('x-webkit-deflate-frame, permessage-deflate')).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover');
    expect(answer('x-webkit-deflate-frame')).toBeUndefined();
    expect(answer('')).toBeUndefined();
  });
  it('names and parameter names are case-insensitive, values may be quoted', () => {
    expect(answer('PerMessage-Deflate; Server_Max_Window_Bits="10"')).toBe('permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10');
  });
});

describe('negotiation declines what RFC 7692 §7 says to decline (and then takes the next offer)', () => {
  const declined = [
    'permessage-deflate; unknown_param',
    'permessage-deflate; server_no_context_takeover=1',
    'permessage-deflate; client_no_context_takeover; client_no_context_takeover',
    'permessage-deflate; server_max_window_bits',
    'permessage-deflate; server_max_window_bits=7',
    'permessage-deflate; server_max_window_bits=16',
    'permessage-deflate; server_max_window_bits=010',
    'permessage-deflate; server_max_window_bits=1a',
    'permessage-deflate; client_max_window_bits=0',
    'permessage-deflate; client_max_window_bits=16',
    'permessage-deflate; p="unclosed',
  ];
  it.each(declined)('%s → no extension', (offer) => {
    expect(answer(offer)).toBeUndefined();
  });
  it('a declined offer falls through to the next one', () => {
    expect(answer('permessage-deflate; server_max_window_bits=20, permessage-deflate; client_max_window_bits')).toBe(
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
    );
  });
});

describe('negotiation with WebSocketCompressionContextTakeover On', () => {
  it('keeps context unless the client asks otherwise', () => {
    expect(answer('permessage-deflate; client_max_window_bits', TAKEOVER)).toBe('permessage-deflate');
    expect(negotiatePerMessageDeflate('permessage-deflate', TAKEOVER)?.params).toMatchObject({ serverNoContextTakeover: false, clientNoContextTakeover: false });
  });
  it('honours server_no_context_takeover and echoes client_no_context_takeover', () => {
    expect(answer('permessage-deflate; server_no_context_takeover', TAKEOVER)).toBe('permessage-deflate; server_no_context_takeover');
    expect(answer('permessage-deflate; client_no_context_takeover', TAKEOVER)).toBe('permessage-deflate; client_no_context_takeover');
  });
});

describe('negotiation with WebSocketCompressionWindowBits', () => {
  const small: DeflatePolicy = { contextTakeover: true, maxWindowBits: 10 };
  it('limits our window (server_max_window_bits) even unasked, and the client’s when it allows', () => {
    expect(answer('permessage-deflate', small)).toBe('permessage-deflate; server_max_window_bits=10');
    expect(answer('permessage-deflate; client_max_window_bits', small)).toBe('permessage-deflate; server_max_window_bits=10; client_max_window_bits=10');
  });
  it('a client asking for less gets less', () => {
    expect(answer('permessage-deflate; server_max_window_bits=9; client_max_window_bits=8', small)).toBe(
      'permessage-deflate; server_max_window_bits=9; client_max_window_bits=8',
    );
  });
});

type Event = { type: 'message'; data: string; isBinary: boolean; compressed: boolean } | { type: 'ping' | 'pong'; data: string } | { type: 'close'; code: number } | { type: 'error'; closeCode: number | undefined; message: string };

class Sink implements DecoderSink {
  readonly events: Event[] = [];
  onMessage(data: Buffer, isBinary: boolean, compressed?: boolean): void {
    this.events.push({ type: 'message', data: data.toString('hex'), isBinary, compressed: compressed === true });
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data: data.toString('hex') });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data: data.toString('hex') });
  }
  onClose(code: number): void {
    this.events.push({ type: 'close', code });
  }
  onError(error: WsgateError): void {
    this.events.push({ type: 'error', closeCode: error.closeCode, message: error.message });
  }
}

function decode(stream: Buffer, perMessageDeflate = true): Event[] {
  const sink = new Sink();
  createHybiDecoder(sink, { ...SERVER, perMessageDeflate }).push(Buffer.from(stream));
  return sink.events;
}

// RFC 7692 §7.2.3.1: "Hello" compressed, one frame.
const HELLO_DEFLATED = 'f248cdc9c90700';

describe('decoder: RSV1 with permessage-deflate (RFC 7692 §6)', () => {
  it('RFC 7692 §7.2.3.1 unmasked example c1 07 f2 48 cd c9 c9 07 00 (masked here): compressed text, bytes unchanged', () => {
    const stream = frame({ opcode: 1, rsv: 4, payload: hex(HELLO_DEFLATED) });
    expect(stream.subarray(0, 2).toString('hex')).toBe('c187');
    expect(decode(stream)).toEqual([{ type: 'message', data: HELLO_DEFLATED, isBinary: false, compressed: true }]);
  });
  it('§7.2.3.1 fragmented: RSV1 only on the first frame (41 03 f2 48 cd, 80 04 c9 c9 07 00)', () => {
    const stream = Buffer.concat([frame({ opcode: 1, rsv: 4, fin: false, payload: hex('f248cd') }), frame({ opcode: 0, payload: hex('c9c90700') })]);
    expect(decode(stream)).toEqual([{ type: 'message', data: HELLO_DEFLATED, isBinary: false, compressed: true }]);
  });
  it('compressed bytes are not UTF-8-checked by the decoder (they are not text yet)', () => {
    expect(decode(frame({ opcode: 1, rsv: 4, payload: hex('ff fe fd') }))).toEqual([{ type: 'message', data: 'fffefd', isBinary: false, compressed: true }]);
  });
  it('a ping between the fragments of a compressed message, then an uncompressed message', () => {
    const stream = Buffer.concat([
      frame({ opcode: 2, rsv: 4, fin: false, payload: hex('f248cd') }),
      frame({ opcode: 9, payload: 'p' }),
      frame({ opcode: 0, payload: hex('c9c90700') }),
      frame({ opcode: 1, payload: 'plain' }),
    ]);
    expect(decode(stream)).toEqual([
      { type: 'ping', data: '70' },
      { type: 'message', data: HELLO_DEFLATED, isBinary: true, compressed: true },
      { type: 'message', data: Buffer.from('plain').toString('hex'), isBinary: false, compressed: false },
    ]);
  });
  const misuse: Array<[string, Buffer, boolean]> = [
    ['RSV1 without the extension negotiated', frame({ opcode: 1, rsv: 4, payload: hex(HELLO_DEFLATED) }), false],
    ['RSV1 on a continuation frame', Buffer.concat([frame({ opcode: 1, fin: false, payload: 'a' }), frame({ opcode: 0, rsv: 4, payload: 'b' })]), true],
    ['RSV1 on the second frame of a compressed message', Buffer.concat([frame({ opcode: 1, rsv: 4, fin: false, payload: hex('f248cd') }), frame({ opcode: 0, rsv: 4, payload: hex('c9c90700') })]), true],
    ['RSV1 on a ping', frame({ opcode: 9, rsv: 4, payload: 'x' }), true],
    ['RSV1 on a close', frame({ opcode: 8, rsv: 4, payload: hex('03e8') }), true],
    ['RSV2 with the extension negotiated', frame({ opcode: 1, rsv: 2, payload: 'x' }), true],
    ['RSV3 with the extension negotiated', frame({ opcode: 2, rsv: 1, payload: 'x' }), true],
    ['RSV1+RSV2', frame({ opcode: 1, rsv: 6, payload: 'x' }), true],
  ];
  it.each(misuse)('%s → 1002', (_name, stream, negotiated) => {
    const events = decode(stream, negotiated);
    expect(events.at(-1)).toMatchObject({ type: 'error', closeCode: 1002 });
    expect(events.filter((e) => e.type === 'message')).toEqual([]);
  });
  it('the wire size of a compressed message still counts against MaxMessageSize', () => {
    const sink = new Sink();
    createHybiDecoder(sink, { maxMessageSize: 4, requireMask: true, perMessageDeflate: true }).push(frame({ opcode: 1, rsv: 4, payload: hex(HELLO_DEFLATED) }));
    expect(sink.events).toEqual([{ type: 'error', closeCode: 1009, message: 'message exceeds MaxMessageSize (4 bytes)' }]);
  });
});

describe('encoder: deflated messages', () => {
  it('RSV1 + opcode on one frame, payload as given (RFC 7692 §7.2.3.1: c1 07 f2 48 cd c9 c9 07 00)', () => {
    expect(Buffer.concat(encodeDeflatedMessage(hex(HELLO_DEFLATED), false)).toString('hex')).toBe('c107' + HELLO_DEFLATED);
    expect(Buffer.concat(encodeDeflatedMessage(hex(HELLO_DEFLATED), true)).toString('hex')).toBe('c207' + HELLO_DEFLATED);
  });
  it('zlib with Z_SYNC_FLUSH ends in 00 00 ff ff, which the sender removes (§7.2.1)', () => {
    const out = deflateRawSync(Buffer.from('Hello'), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(out.subarray(-4).toString('hex')).toBe('0000ffff');
    expect(out.subarray(0, -4).toString('hex')).toBe(HELLO_DEFLATED);
  });
  it('large payloads keep the 64-bit length form with RSV1', () => {
    const chunks = encodeDeflatedMessage(Buffer.alloc(70000), true);
    expect(chunks[0]!.subarray(0, 2).toString('hex')).toBe('c27f');
  });
});
