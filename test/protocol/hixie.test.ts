import { describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { createHixieDecoder, hixieEncoder } from '../../src/protocol/index.js';
import type { DecoderOptions } from '../../src/protocol/index.js';
import { RecordingSink, byteByByte, decodePieces, decodeWhole, everySplit, type DecoderEvent } from './helpers.js';

const OPTIONS: DecoderOptions = { maxMessageSize: 1000 };
const decode = (stream: Buffer, options = OPTIONS): DecoderEvent[] => decodeWhole(createHixieDecoder, stream, options);
const text = (s: string): Buffer => Buffer.concat([Buffer.from([0x00]), Buffer.from(s), Buffer.from([0xff])]);

describe('hixie decoder', () => {
  const stream = Buffer.concat([
    text('hello'),
    text(''),
    Buffer.from([0x80, 0x03, 0x01, 0x02, 0x03]), // binary frame, discarded
    Buffer.from([0x80, 0x81, 0x00]), // type 0x80, length 128 in two 7-bit groups…
    Buffer.alloc(128, 0xff), // …its (discarded) payload may contain 0xFF
    Buffer.from([0x05, 0x61, 0xff]), // text frame of type 0x05: data discarded
    text('€ 𝄞 κόσμε'),
    Buffer.from([0xff, 0x00]),
  ]);
  const expected: DecoderEvent[] = [
    { type: 'message', data: 'hello', isBinary: false },
    { type: 'message', data: '', isBinary: false },
    { type: 'message', data: '€ 𝄞 κόσμε', isBinary: false },
    { type: 'close', code: 1005, reason: '' },
  ];

  it('decodes text frames, discards length-prefixed and non-zero-type frames, reports 0xFF 0x00 as close', () => {
    expect(decode(stream)).toEqual(expected);
  });
  it('gives the same events split at every byte boundary and byte by byte', () => {
    for (const pieces of everySplit(stream)) expect(decodePieces(createHixieDecoder, pieces, OPTIONS)).toEqual(expected);
    expect(decodePieces(createHixieDecoder, byteByByte(stream), OPTIONS)).toEqual(expected);
  });
  it('ignores input after the closing frame', () => {
    const sink = new RecordingSink();
    const decoder = createHixieDecoder(sink, OPTIONS);
    decoder.push(Buffer.concat([Buffer.from([0xff, 0x00]), text('late')]));
    decoder.push(text('later'));
    expect(sink.events).toEqual([{ type: 'close', code: 1005, reason: '' }]);
  });
  it('does not modify the pushed buffer', () => {
    const input = text('unchanged');
    const copy = Buffer.from(input);
    createHixieDecoder(new RecordingSink(), OPTIONS).push(input);
    expect(input).toEqual(copy);
  });

  const errors: Array<[string, Buffer[], string, number]> = [
    ['invalid UTF-8', [Buffer.from([0x00, 0x61, 0xc0, 0x80, 0xff])], 'INVALID_UTF8', 1007],
    ['UTF-8 failing before the frame ends', [Buffer.from([0x00, 0x61, 0xed, 0xa0])], 'INVALID_UTF8', 1007],
    ['frame ending mid-character', [Buffer.from([0x00, 0xe2, 0x82]), Buffer.from([0xff])], 'INVALID_UTF8', 1007],
    ['text over MaxMessageSize without its end', [Buffer.from([0x00]), Buffer.alloc(1001, 0x61)], 'MESSAGE_TOO_BIG', 1009],
    ['declared binary length over MaxMessageSize', [Buffer.from([0x80, 0x87, 0x69])], 'MESSAGE_TOO_BIG', 1009],
    ['endless length groups', [Buffer.from([0x80, ...Array(20).fill(0xff)])], 'MESSAGE_TOO_BIG', 1009],
  ];
  for (const [name, pieces, code, closeCode] of errors) {
    it(`${name} → one ${code} error (${closeCode}), then nothing`, () => {
      for (const feed of [pieces, byteByByte(Buffer.concat(pieces))]) {
        const sink = new RecordingSink();
        const decoder = createHixieDecoder(sink, OPTIONS);
        for (const piece of feed) decoder.push(piece);
        decoder.push(text('after'));
        expect(sink.events).toHaveLength(1);
        expect(sink.events[0]).toMatchObject({ type: 'error', code, closeCode });
      }
    });
  }
  it('uses tooBigCloseCode when given', () => {
    const events = decode(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(20, 0x61)]), { maxMessageSize: 10, tooBigCloseCode: 1004 });
    expect(events).toMatchObject([{ type: 'error', closeCode: 1004 }]);
  });
  it('accepts a text frame of exactly MaxMessageSize', () => {
    expect(decode(text('a'.repeat(1000)))).toEqual([{ type: 'message', data: 'a'.repeat(1000), isBinary: false }]);
  });
});

describe('hixie encoder', () => {
  it('frames text as 0x00 … 0xFF, small and large', () => {
    expect(Buffer.concat(hixieEncoder.message(Buffer.from('hi €'), false))).toEqual(text('hi €'));
    const big = Buffer.alloc(5000, 0x62);
    const chunks = hixieEncoder.message(big, false);
    expect(chunks).toContain(big);
    expect(decode(Buffer.concat(chunks), { maxMessageSize: 5000 })).toEqual([
      { type: 'message', data: big.toString(), isBinary: false },
    ]);
  });
  it('writes nothing for binary data and has no ping/pong', () => {
    expect(hixieEncoder.message(Buffer.from([1, 2]), true)).toEqual([]);
    expect(hixieEncoder.ping(Buffer.alloc(0))).toBeUndefined();
    expect(hixieEncoder.pong(Buffer.alloc(0))).toBeUndefined();
  });
  it('refuses text containing 0xFF (it would end the frame early)', () => {
    expect(() => hixieEncoder.message(Buffer.from([0x61, 0xff, 0x00]), false)).toThrow(WsgateError);
  });
  it('closes with 0xFF 0x00 whatever the code', () => {
    expect(Buffer.concat(hixieEncoder.close(1000, 'bye')).toString('hex')).toBe('ff00');
    expect(Buffer.concat(hixieEncoder.close()).toString('hex')).toBe('ff00');
  });
});
