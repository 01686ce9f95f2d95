import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { MessageAssembler } from '../../src/protocol/message-assembler.js';
import { createHybiDecoder } from '../../src/protocol/index.js';
import { RecordingSink, SERVER, frame } from './helpers.js';
import { mulberry32 } from './prng.js';

describe('MessageAssembler', () => {
  it('reassembles any mix of small (copied) and large (viewed) pieces, 300 random messages', () => {
    const random = mulberry32(42);
    const assembler = new MessageAssembler();
    for (let n = 0; n < 300; n++) {
      const text = Buffer.from('ascii, κόσμε, € and 𝄞 '.repeat(1 + Math.floor(random() * 400)));
      let at = 0;
      let ok = true;
      while (at < text.length) {
        const size = random() < 0.7 ? 1 + Math.floor(random() * 300) : 1 + Math.floor(random() * 20000);
        ok = assembler.append(Buffer.from(text.subarray(at, at + size)), true) && ok;
        at += size;
      }
      expect(ok).toBe(true);
      expect(assembler.finish(true)?.equals(text)).toBe(true);
    }
  });

  it('reports bad UTF-8 at the piece that breaks it and an unfinished sequence at the end', () => {
    const assembler = new MessageAssembler();
    expect(assembler.append(Buffer.from('fine '), true)).toBe(true);
    expect(assembler.append(Buffer.from([0xe2, 0x82]), true)).toBe(true);
    expect(assembler.finish(true)).toBeUndefined();
    expect(assembler.append(Buffer.from('again '), true)).toBe(true);
    expect(assembler.append(Buffer.from([0xc0]), true)).toBe(false);
    assembler.reset();
    const binary = Buffer.from([0xff, 0xfe, 0x00]);
    expect(assembler.append(binary, false)).toBe(true);
    expect(assembler.finish(false)).toEqual(binary);
    expect(isUtf8(binary)).toBe(false);
  });

  it('a 200 KiB message trickled one byte per push and one byte per frame decodes intact', () => {
    const payload = Buffer.alloc(200 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = 0x20 + (i % 90);
    const sink = new RecordingSink();
    const decoder = createHybiDecoder(sink, SERVER);
    const stream = frame({ opcode: 1, payload });
    for (let i = 0; i < stream.length; i++) decoder.push(Buffer.from([stream[i]!]));
    expect(sink.events).toEqual([{ type: 'message', data: payload.toString(), isBinary: false }]);

    const frames = Array.from(payload.subarray(0, 20000), (b, i) => frame({ opcode: i === 0 ? 2 : 0, payload: Buffer.from([b]), fin: i === 19999 }));
    const sink2 = new RecordingSink();
    createHybiDecoder(sink2, SERVER).push(Buffer.concat(frames));
    expect(sink2.events).toEqual([{ type: 'message', data: payload.subarray(0, 20000).toString('hex'), isBinary: true }]);
  });
});
