import { describe, expect, it } from 'vitest';
import { createHybiDecoder } from '../../src/protocol/index.js';
import type { DecoderOptions } from '../../src/protocol/index.js';
import {
  RecordingSink,
  SERVER,
  byteByByte,
  decodePieces,
  decodeWhole,
  everySplit,
  frame,
  type DecoderEvent,
} from './helpers.js';

const decode = (stream: Buffer, options: DecoderOptions = SERVER): DecoderEvent[] =>
  decodeWhole(createHybiDecoder, stream, options);
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const CLIENT: DecoderOptions = { maxMessageSize: 1 << 20 };

function onlyError(events: DecoderEvent[]): Extract<DecoderEvent, { type: 'error' }> {
  const errors = events.filter((e) => e.type === 'error');
  expect(errors).toHaveLength(1);
  expect(events.at(-1)).toBe(errors[0]);
  return errors[0] as Extract<DecoderEvent, { type: 'error' }>;
}

describe('RFC 6455 §5.7 examples', () => {
  it('single-frame unmasked text "Hello"', () => {
    expect(decode(hex('81 05 48 65 6c 6c 6f'), CLIENT)).toEqual([{ type: 'message', data: 'Hello', isBinary: false }]);
  });
  it('single-frame masked text "Hello"', () => {
    expect(decode(hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'))).toEqual([{ type: 'message', data: 'Hello', isBinary: false }]);
  });
  it('fragmented unmasked text "Hel" + "lo"', () => {
    expect(decode(hex('01 03 48 65 6c 80 02 6c 6f'), CLIENT)).toEqual([{ type: 'message', data: 'Hello', isBinary: false }]);
  });
  it('unmasked ping and masked pong with body "Hello"', () => {
    expect(decode(hex('89 05 48 65 6c 6c 6f'), CLIENT)).toEqual([{ type: 'ping', data: '48656c6c6f' }]);
    expect(decode(hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58'))).toEqual([{ type: 'pong', data: '48656c6c6f' }]);
  });
  it('256 bytes and 64 KiB of binary in one unmasked frame', () => {
    const small = Buffer.alloc(256, 0xab);
    expect(decode(Buffer.concat([hex('82 7e 01 00'), small]), CLIENT)).toEqual([
      { type: 'message', data: small.toString('hex'), isBinary: true },
    ]);
    const big = Buffer.alloc(65536, 0xcd);
    const events = decode(Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), big]), CLIENT);
    expect(events).toEqual([{ type: 'message', data: big.toString('hex'), isBinary: true }]);
  });
});

describe('length encodings', () => {
  for (const size of [0, 1, 125, 126, 127, 65535, 65536, 70001]) {
    it(`${size}-byte masked binary frame, whole and byte-split`, () => {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
      const stream = frame({ opcode: 2, payload });
      const expected = [{ type: 'message', data: payload.toString('hex'), isBinary: true }];
      expect(decode(stream)).toEqual(expected);
      // Split inside the header and inside the payload.
      for (const at of [1, 2, 3, 5, 9, 11, Math.floor(stream.length / 2), stream.length - 1]) {
        if (at <= 0 || at >= stream.length) continue;
        expect(decodePieces(createHybiDecoder, [stream.subarray(0, at), stream.subarray(at)], SERVER)).toEqual(expected);
      }
    });
  }

  it('a 64-bit length is read as a whole (2^32 + 5 declared, over the limit)', () => {
    const stream = frame({ opcode: 2, payload: Buffer.alloc(0), declaredLength: 2n ** 32n + 5n });
    const error = onlyError(decode(stream));
    expect(error).toMatchObject({ code: 'MESSAGE_TOO_BIG', closeCode: 1009 });
  });

  it('rejects a 64-bit length with the high bit set (1002)', () => {
    const stream = frame({ opcode: 2, declaredLength: 2n ** 63n + 10n });
    expect(onlyError(decode(stream))).toMatchObject({ code: 'PROTOCOL_ERROR', closeCode: 1002 });
  });

  it('rejects non-minimal length encodings (1002)', () => {
    const sixteen = frame({ opcode: 1, payload: 'hi', lengthBytes: 2 });
    expect(onlyError(decode(sixteen))).toMatchObject({ closeCode: 1002, message: expect.stringContaining('minimal') });
    const sixtyFour = frame({ opcode: 2, payload: Buffer.alloc(300), lengthBytes: 8 });
    expect(onlyError(decode(sixtyFour))).toMatchObject({ closeCode: 1002, message: expect.stringContaining('minimal') });
  });
});

describe('stream splitting', () => {
  const stream = Buffer.concat([
    frame({ opcode: 1, payload: 'héllo wörld €𝄞' }),
    frame({ opcode: 1, payload: 'frag-€'.slice(0, 5), fin: false }),
    frame({ opcode: 9, payload: 'ping!' }),
    frame({ opcode: 0, payload: Buffer.from('€𝄞').subarray(0, 4), fin: false }),
    frame({ opcode: 10, payload: '' }),
    frame({ opcode: 0, payload: Buffer.from('€𝄞').subarray(4), fin: true }),
    frame({ opcode: 2, payload: Buffer.alloc(126, 0x5a) }),
    frame({ opcode: 1, payload: '' }),
    frame({ opcode: 8, payload: Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye ✓')]) }),
  ]);
  const expected: DecoderEvent[] = [
    { type: 'message', data: 'héllo wörld €𝄞', isBinary: false },
    { type: 'ping', data: Buffer.from('ping!').toString('hex') },
    { type: 'pong', data: '' },
    { type: 'message', data: 'frag-€𝄞', isBinary: false },
    { type: 'message', data: '5a'.repeat(126), isBinary: true },
    { type: 'message', data: '', isBinary: false },
    { type: 'close', code: 1000, reason: 'bye ✓' },
  ];

  it('decodes the stream pushed whole', () => {
    expect(decode(stream)).toEqual(expected);
  });
  it('gives the same events split at every byte boundary', () => {
    for (const pieces of everySplit(stream)) expect(decodePieces(createHybiDecoder, pieces, SERVER)).toEqual(expected);
  });
  it('gives the same events pushed one byte at a time', () => {
    expect(decodePieces(createHybiDecoder, byteByByte(stream), SERVER)).toEqual(expected);
  });
  it('unmasks correctly whatever the alignment of the pushed buffer', () => {
    const payload = Buffer.alloc(1000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
    const one = frame({ opcode: 2, payload, mask: Buffer.from([0x01, 0x80, 0xfe, 0x7f]) });
    for (let pad = 0; pad < 8; pad++) {
      const backing = Buffer.alloc(pad + one.length);
      one.copy(backing, pad);
      const sink = new RecordingSink();
      createHybiDecoder(sink, SERVER).push(backing.subarray(pad));
      expect(sink.events).toEqual([{ type: 'message', data: payload.toString('hex'), isBinary: true }]);
    }
  });
});

describe('protocol violations end with exactly one error', () => {
  const cases: Array<[string, Buffer, DecoderOptions, number]> = [
    ['unmasked client frame', frame({ opcode: 1, payload: 'x', mask: false }), SERVER, 1002],
    ['RSV1 without extension', frame({ opcode: 1, payload: 'x', rsv: 4 }), SERVER, 1002],
    ['RSV2', frame({ opcode: 2, payload: 'x', rsv: 2 }), SERVER, 1002],
    ['RSV3 on a ping', frame({ opcode: 9, rsv: 1 }), SERVER, 1002],
    ['fragmented ping', frame({ opcode: 9, payload: 'x', fin: false }), SERVER, 1002],
    ['close with 126-byte payload', frame({ opcode: 8, payload: Buffer.alloc(126) }), SERVER, 1002],
    ['pong with 126-byte payload', frame({ opcode: 10, payload: Buffer.alloc(126) }), SERVER, 1002],
    ['continuation without a start', frame({ opcode: 0, payload: 'x' }), SERVER, 1002],
    [
      'text frame inside a fragmented message',
      Buffer.concat([frame({ opcode: 1, payload: 'a', fin: false }), frame({ opcode: 1, payload: 'b' })]),
      SERVER,
      1002,
    ],
    [
      'binary frame inside a fragmented text message',
      Buffer.concat([frame({ opcode: 1, payload: 'a', fin: false }), frame({ opcode: 2, payload: 'b' })]),
      SERVER,
      1002,
    ],
    ['close with a 1-byte payload', frame({ opcode: 8, payload: Buffer.from([3]) }), SERVER, 1002],
    ['invalid UTF-8 text', frame({ opcode: 1, payload: Buffer.from([0xce, 0xba, 0xe1, 0xbd]) }), SERVER, 1007],
    ['overlong UTF-8', frame({ opcode: 1, payload: Buffer.from([0xc0, 0xaf]) }), SERVER, 1007],
    ['UTF-16 surrogate', frame({ opcode: 1, payload: Buffer.from([0xed, 0xa0, 0x80]) }), SERVER, 1007],
    ['close reason not UTF-8', frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8, 0xff]) }), SERVER, 1007],
    ['message over MaxMessageSize', frame({ opcode: 2, payload: Buffer.alloc(101) }), { ...SERVER, maxMessageSize: 100 }, 1009],
    [
      'message over MaxMessageSize, 7/8 code',
      frame({ opcode: 2, payload: Buffer.alloc(101) }),
      { ...SERVER, maxMessageSize: 100, tooBigCloseCode: 1004 },
      1004,
    ],
  ];
  for (const op of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    cases.push([`reserved opcode ${op}`, frame({ opcode: op, payload: 'x' }), SERVER, 1002]);
  }
  for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    cases.push([`close code ${code}`, frame({ opcode: 8, payload: Buffer.from([code >> 8, code & 0xff]) }), SERVER, 1002]);
  }

  for (const [name, stream, options, closeCode] of cases) {
    it(`${name} → ${closeCode}`, () => {
      const trailing = frame({ opcode: 1, payload: 'after' });
      const events = decode(Buffer.concat([stream, trailing]), options);
      expect(onlyError(events).closeCode).toBe(closeCode);
      // Same result pushed byte by byte, and nothing after the error even when more is pushed.
      const sink = new RecordingSink();
      const decoder = createHybiDecoder(sink, options);
      for (const piece of byteByByte(Buffer.concat([stream, trailing]))) decoder.push(piece);
      decoder.push(frame({ opcode: 1, payload: 'more' }));
      const withoutMessage = (list: DecoderEvent[]) => list.map((e) => (e.type === 'error' ? { ...e, message: '' } : e));
      expect(withoutMessage(sink.events)).toEqual(withoutMessage(events));
    });
  }
});

describe('close frames', () => {
  for (const code of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
    it(`accepts close code ${code}`, () => {
      expect(decode(frame({ opcode: 8, payload: Buffer.from([code >> 8, code & 0xff]) }))).toEqual([
        { type: 'close', code, reason: '' },
      ]);
    });
  }
  it('accepts 1004 only from hybi-07/08 peers (tooBigCloseCode 1004)', () => {
    const close1004 = frame({ opcode: 8, payload: Buffer.from([0x03, 0xec]) });
    expect(decode(close1004, { ...SERVER, tooBigCloseCode: 1004 })).toEqual([{ type: 'close', code: 1004, reason: '' }]);
    expect(decode(close1004)).toMatchObject([{ type: 'error', closeCode: 1002 }]);
  });
  it('an empty close frame is reported as 1005', () => {
    expect(decode(frame({ opcode: 8 }))).toEqual([{ type: 'close', code: 1005, reason: '' }]);
  });
  it('ignores everything after a close frame', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, SERVER);
    decoder.push(Buffer.concat([frame({ opcode: 8 }), frame({ opcode: 1, payload: 'late' }), Buffer.from([0xff, 0xff])]));
    decoder.push(frame({ opcode: 1, payload: 'later' }));
    expect(sink.events).toEqual([{ type: 'close', code: 1005, reason: '' }]);
  });
});

describe('fragmented messages', () => {
  it('fails fast when a fragment makes the text invalid, before the message ends', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, SERVER);
    decoder.push(frame({ opcode: 1, payload: 'κόσμε', fin: false }));
    expect(sink.events).toEqual([]);
    decoder.push(frame({ opcode: 0, payload: Buffer.from([0xf4, 0x90, 0x80, 0x80]), fin: false }));
    expect(onlyError(sink.events)).toMatchObject({ code: 'INVALID_UTF8', closeCode: 1007 });
  });

  it('fails fast inside one frame whose payload is still arriving', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, SERVER);
    const payload = Buffer.concat([Buffer.from('valid '), Buffer.from([0xc3, 0x28]), Buffer.alloc(1000, 0x61)]);
    const stream = frame({ opcode: 1, payload });
    decoder.push(Buffer.from(stream.subarray(0, 20)));
    expect(onlyError(sink.events).closeCode).toBe(1007);
  });

  it('accepts a character split across fragments; rejects a message that ends mid-character', () => {
    const euro = Buffer.from('€');
    const ok = Buffer.concat([
      frame({ opcode: 1, payload: euro.subarray(0, 1), fin: false }),
      frame({ opcode: 0, payload: euro.subarray(1, 2), fin: false }),
      frame({ opcode: 0, payload: euro.subarray(2), fin: true }),
    ]);
    expect(decode(ok)).toEqual([{ type: 'message', data: '€', isBinary: false }]);
    const cut = Buffer.concat([
      frame({ opcode: 1, payload: 'ab', fin: false }),
      frame({ opcode: 0, payload: euro.subarray(0, 2), fin: true }),
    ]);
    expect(onlyError(decode(cut)).closeCode).toBe(1007);
  });

  it('reports the size limit on the header that crosses it, before its payload arrives', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, { ...SERVER, maxMessageSize: 100 });
    decoder.push(frame({ opcode: 2, payload: Buffer.alloc(60), fin: false }));
    decoder.push(frame({ opcode: 0, payload: Buffer.alloc(40), fin: false }));
    expect(sink.events).toEqual([]);
    const third = frame({ opcode: 0, payload: Buffer.alloc(1), fin: true });
    decoder.push(third.subarray(0, 6)); // header only
    expect(onlyError(sink.events)).toMatchObject({ code: 'MESSAGE_TOO_BIG', closeCode: 1009 });
  });

  it('allows exactly MaxMessageSize over several fragments and counts per message', () => {
    const options = { ...SERVER, maxMessageSize: 10 };
    const message = Buffer.concat([
      frame({ opcode: 2, payload: Buffer.alloc(5, 1), fin: false }),
      frame({ opcode: 0, payload: Buffer.alloc(5, 2), fin: true }),
    ]);
    const events = decode(Buffer.concat([message, message]), options);
    expect(events).toHaveLength(2);
    expect(events[0]).toEqual({ type: 'message', data: '01'.repeat(5) + '02'.repeat(5), isBinary: true });
  });

  it('accepts masked and unmasked frames when requireMask is off', () => {
    const stream = Buffer.concat([frame({ opcode: 1, payload: 'a', mask: false }), frame({ opcode: 1, payload: 'b' })]);
    expect(decode(stream, CLIENT)).toEqual([
      { type: 'message', data: 'a', isBinary: false },
      { type: 'message', data: 'b', isBinary: false },
    ]);
  });
});

describe('a sink that throws', () => {
  it('leaves the decoder consistent: the next frames still decode', () => {
    const sink = new RecordingSink();
    let thrown = 0;
    const decoder = createHybiDecoder(
      {
        ...sink,
        onMessage: (data, isBinary) => {
          if (thrown++ === 0) throw new Error('handler bug');
          sink.onMessage(data, isBinary);
        },
        onPing: (data) => sink.onPing(data),
        onPong: (data) => sink.onPong(data),
        onClose: (code, reason) => sink.onClose(code, reason),
        onError: (error) => sink.onError(error),
      },
      SERVER,
    );
    const first = frame({ opcode: 1, payload: 'first' });
    const second = frame({ opcode: 1, payload: 'second', fin: false });
    expect(() => decoder.push(first)).toThrow('handler bug');
    decoder.push(Buffer.concat([second, frame({ opcode: 9, payload: 'p' }), frame({ opcode: 0, payload: '!' })]));
    expect(sink.events).toEqual([
      { type: 'ping', data: '70' },
      { type: 'message', data: 'second!', isBinary: false },
    ]);
  });
});

describe('MaxMessageSize is decided on the length field (issue 9)', () => {
  // Only the header bytes up to the end of the length are pushed: no masking key, no payload.
  const cases: Array<[string, string, number]> = [
    ['7-bit length 101', '82 e5', 100],
    ['16-bit length 65535', '82 fe ff ff', 65534],
    ['64-bit length 2^63-1', '82 ff 7f ff ff ff ff ff ff ff', 1 << 20],
  ];
  for (const [name, head, limit] of cases) {
    for (const [tooBigCloseCode, expected] of [[undefined, 1009], [1004, 1004]] as const) {
      it(`${name}, limit ${limit}: ${expected} before the masking key arrives`, () => {
        const sink = new RecordingSink();
        const decoder = createHybiDecoder(sink, { ...SERVER, maxMessageSize: limit, tooBigCloseCode });
        decoder.push(hex(head));
        expect(sink.events).toMatchObject([{ type: 'error', code: 'MESSAGE_TOO_BIG', closeCode: expected }]);
        decoder.push(hex('00 00 00 00 61'));
        expect(sink.events).toHaveLength(1);
      });
    }
  }
  it('the same length fed one byte at a time fails on its last byte', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, { ...SERVER, maxMessageSize: 1000 });
    const bytes = hex('82 ff 7f ff ff ff ff ff ff ff');
    for (let i = 0; i < bytes.length; i++) {
      decoder.push(bytes.subarray(i, i + 1));
      expect(sink.events).toHaveLength(i === bytes.length - 1 ? 1 : 0);
    }
    expect(sink.events[0]).toMatchObject({ type: 'error', closeCode: 1009 });
  });
  it('a frame within the limit still waits for its masking key', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, { ...SERVER, maxMessageSize: 5 });
    decoder.push(hex('81 85'));
    expect(sink.events).toEqual([]);
    decoder.push(hex('37 fa 21 3d 7f 9f 4d 51 58'));
    expect(sink.events).toEqual([{ type: 'message', data: 'Hello', isBinary: false }]);
  });
  it('a continuation frame that takes the message over the limit fails on its length', () => {
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, { ...SERVER, maxMessageSize: 5 });
    decoder.push(frame({ opcode: 1, payload: 'Hel', fin: false }));
    decoder.push(hex('80 83'));
    expect(sink.events).toMatchObject([{ type: 'error', closeCode: 1009 }]);
  });
  it('non-minimal and high-bit lengths stay 1002, even over the limit', () => {
    expect(onlyError(decode(hex('82 ff 80 00 00 00 00 00 00 00'), { ...SERVER, maxMessageSize: 10 })).closeCode).toBe(1002);
    expect(onlyError(decode(hex('82 fe 00 05'), { ...SERVER, maxMessageSize: 1 })).closeCode).toBe(1002);
  });
});

describe('control frames count against MaxMessageSize, as in the maintained fork', () => {
  const limited = { ...SERVER, maxMessageSize: 30 };
  const closeWith = (reason: string): Buffer => frame({ opcode: 8, payload: Buffer.concat([hex('03 e8'), Buffer.from(reason)]) });
  it('limit 30: a close whose reason is 28 bytes is read, 29 bytes closes with 1009', () => {
    expect(decode(closeWith('r'.repeat(28)), limited)).toEqual([{ type: 'close', code: 1000, reason: 'r'.repeat(28) }]);
    expect(onlyError(decode(closeWith('r'.repeat(29)), limited)).closeCode).toBe(1009);
  });
  it('limit 30: a ping of 30 bytes is read, 31 bytes closes with 1009 (1004 for drafts 7/8)', () => {
    expect(decode(frame({ opcode: 9, payload: Buffer.alloc(30, 0x70) }), limited)).toEqual([{ type: 'ping', data: '70'.repeat(30) }]);
    expect(onlyError(decode(frame({ opcode: 9, payload: Buffer.alloc(31) }), limited)).closeCode).toBe(1009);
    expect(onlyError(decode(frame({ opcode: 10, payload: Buffer.alloc(31) }), limited)).closeCode).toBe(1009);
    expect(onlyError(decode(frame({ opcode: 9, payload: Buffer.alloc(31) }), { ...limited, tooBigCloseCode: 1004 })).closeCode).toBe(1004);
  });
  it('a control frame is refused on its header alone', () => {
    const sink = new RecordingSink();
    createHybiDecoder(sink, limited).push(hex('89 9f'));
    expect(sink.events).toMatchObject([{ type: 'error', code: 'MESSAGE_TOO_BIG', closeCode: 1009 }]);
  });
  it('a ping between fragments is counted on its own, not added to the message', () => {
    const stream = Buffer.concat([
      frame({ opcode: 1, payload: 'a'.repeat(20), fin: false }),
      frame({ opcode: 9, payload: Buffer.alloc(20, 0x70) }),
      frame({ opcode: 0, payload: 'b'.repeat(10) }),
    ]);
    expect(decode(stream, limited)).toEqual([
      { type: 'ping', data: '70'.repeat(20) },
      { type: 'message', data: 'a'.repeat(20) + 'b'.repeat(10), isBinary: false },
    ]);
  });
  it('over 125 bytes stays a protocol error (1002) whatever the limit', () => {
    expect(onlyError(decode(frame({ opcode: 9, payload: Buffer.alloc(126) }), limited)).closeCode).toBe(1002);
  });
});

describe('WebSocketAllowReservedStatusCodes (allowReservedStatusCodes)', () => {
  const close = (code: number): Buffer => frame({ opcode: 8, payload: Buffer.from([code >> 8, code & 0xff, 0x6f, 0x6b]) });
  const reserved = [1004, 1016, 1100, 2000, 2999];
  const never = [0, 999, 1005, 1006, 1015, 5000, 65535];
  for (const code of reserved) {
    it(`close ${code}: accepted with On, 1002 with Off`, () => {
      expect(decode(close(code), { ...SERVER, allowReservedStatusCodes: true })).toEqual([{ type: 'close', code, reason: 'ok' }]);
      expect(onlyError(decode(close(code), { ...SERVER, allowReservedStatusCodes: false })).closeCode).toBe(1002);
      expect(onlyError(decode(close(code))).closeCode).toBe(1002);
    });
  }
  for (const code of never) {
    it(`close ${code}: 1002 with On and with Off, for every version`, () => {
      for (const allowReservedStatusCodes of [true, false]) {
        for (const tooBigCloseCode of [undefined, 1004]) {
          expect(onlyError(decode(close(code), { ...SERVER, allowReservedStatusCodes, tooBigCloseCode })).closeCode).toBe(1002);
        }
      }
    });
  }
  it('registered and application codes stay accepted with On', () => {
    for (const code of [1000, 1003, 1007, 1014, 3000, 4999]) {
      expect(decode(close(code), { ...SERVER, allowReservedStatusCodes: true })).toEqual([{ type: 'close', code, reason: 'ok' }]);
    }
  });
});
