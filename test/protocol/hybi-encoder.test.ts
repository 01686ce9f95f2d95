import { describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { Opcode, createHybiDecoder, hybiEncoder, isValidUtf8, truncateUtf8 } from '../../src/protocol/index.js';
import { countDataFrames, encodeFrame } from '../../src/protocol/hybi-encoder.js';
import { decodeWhole } from './helpers.js';
import { parseWithWs } from './ws-oracle.js';

const hex = (chunks: Buffer[]): string => Buffer.concat(chunks).toString('hex');

describe('hybiEncoder', () => {
  it('writes the RFC 6455 §5.7 unmasked examples', () => {
    expect(hex(hybiEncoder.message(Buffer.from('Hello'), false))).toBe('810548656c6c6f');
    expect(hex(hybiEncoder.ping(Buffer.from('Hello'))!)).toBe('890548656c6c6f');
    expect(hex(hybiEncoder.message(Buffer.alloc(256), true)).slice(0, 8)).toBe('827e0100');
    expect(hex(hybiEncoder.message(Buffer.alloc(65536), true)).slice(0, 20)).toBe('827f0000000000010000');
  });

  it('writes a 64-bit length beyond 32 bits (header only: the payload is never touched)', () => {
    const huge = { length: 2 ** 32 + 0x01020305 } as unknown as Buffer;
    const [header, payload] = encodeFrame(Opcode.Binary, huge);
    expect(header!.toString('hex')).toBe('827f0000000101020305');
    expect(payload).toBe(huge);
  });

  for (const size of [0, 125, 126, 1024, 1025, 65535, 65536, 1 << 20]) {
    it(`${size}-byte messages are read back by ws's Receiver and by our decoder`, () => {
      const payload = Buffer.alloc(size);
      for (let i = 0; i < size; i++) payload[i] = i & 0xff;
      const chunks = hybiEncoder.message(payload, true);
      expect(Buffer.concat(chunks).length).toBe(size + (size < 126 ? 2 : size < 65536 ? 4 : 10));
      if (size > 1024) expect(chunks[1]).toBe(payload); // large payloads are not copied
      expect(parseWithWs(chunks)).toEqual([['message', payload.toString('hex'), true]]);
      expect(decodeWhole(createHybiDecoder, Buffer.concat(chunks), { maxMessageSize: 1 << 21 })).toEqual([
        { type: 'message', data: payload.toString('hex'), isBinary: true },
      ]);
    });
  }

  it('text, ping, pong and close frames parse in ws', () => {
    const chunks = [
      ...hybiEncoder.message(Buffer.from('héllo'), false),
      ...hybiEncoder.ping(Buffer.from('p'))!,
      ...hybiEncoder.pong(Buffer.alloc(0))!,
      ...hybiEncoder.close(4000, 'done'),
    ];
    expect(parseWithWs(chunks)).toEqual([
      ['message', Buffer.from('héllo').toString('hex'), false],
      ['ping', '70'],
      ['pong', ''],
      ['close', 4000, 'done'],
    ]);
  });

  it('close without a code is an empty close frame', () => {
    expect(hex(hybiEncoder.close())).toBe('8800');
    expect(parseWithWs(hybiEncoder.close())).toEqual([['close', 1005, '']]);
  });

  it('truncates a long close reason to 123 bytes at a UTF-8 boundary', () => {
    const reason = 'a' + '€'.repeat(60); // 181 bytes
    const frame = Buffer.concat(hybiEncoder.close(1000, reason));
    expect(frame[1]).toBeLessThanOrEqual(125);
    const sent = frame.subarray(4);
    expect(sent.length).toBe(121); // 1 + 40 × 3: the 41st euro sign would end at byte 124
    expect(isValidUtf8(sent)).toBe(true);
    expect(reason.startsWith(sent.toString())).toBe(true);
    expect(parseWithWs([frame])).toEqual([['close', 1000, sent.toString()]]);
    expect(truncateUtf8('x'.repeat(200), 123).length).toBe(123);
    expect(truncateUtf8('𝄞𝄞', 7).toString()).toBe('𝄞');
  });

  it('refuses close codes that may not be sent and control payloads over 125 bytes', () => {
    for (const code of [1005, 1006, 1015, 999, 5000]) {
      expect(() => hybiEncoder.close(code, 'x')).toThrow(WsgateError);
    }
    expect(() => hybiEncoder.ping(Buffer.alloc(126))).toThrow(/125/);
    // 1004 stays sendable: hybi-07/08 answer an oversized message with it.
    expect(hex(hybiEncoder.close(1004))).toBe('880203ec');
    // Reserved codes a peer may use under WebSocketAllowReservedStatusCodes are echoed back.
    expect(hex(hybiEncoder.close(2000))).toBe('880207d0');
    expect(hex(hybiEncoder.close(1016))).toBe('880203f8');
    expect(hex(hybiEncoder.pong(Buffer.alloc(125, 1))!).length).toBe((2 + 125) * 2);
  });

  it("counts the data frames among whole frames back to back (how the send queue uncounts a native plugin's framed replies)", () => {
    const frames = [
      ...encodeFrame(Opcode.Text, Buffer.from('a')),
      ...hybiEncoder.ping(Buffer.from('p'))!,
      ...encodeFrame(Opcode.Binary, Buffer.alloc(125)),
      ...encodeFrame(Opcode.Binary, Buffer.alloc(126)),
      ...encodeFrame(Opcode.Text, Buffer.alloc(65_535)),
      ...encodeFrame(Opcode.Binary, Buffer.alloc(65_536)),
      ...hybiEncoder.close(1000),
      ...encodeFrame(Opcode.Binary, Buffer.alloc(0)),
    ];
    const wire = Buffer.concat(frames);
    expect(countDataFrames(wire)).toBe(6);
    expect(countDataFrames(Buffer.alloc(0))).toBe(0);
    // A frame cut short counts once its first two bytes are there; reading stops at it.
    const cut = Buffer.concat([...encodeFrame(Opcode.Text, Buffer.from('a')), ...encodeFrame(Opcode.Binary, Buffer.alloc(300))]);
    expect(countDataFrames(cut.subarray(0, 100))).toBe(2);
    expect(countDataFrames(Buffer.from([0x82, 0x7f, 0, 0]))).toBe(1);
    expect(countDataFrames(Buffer.from([0x81]))).toBe(0);
  });
});
