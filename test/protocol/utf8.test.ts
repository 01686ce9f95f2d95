import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { Utf8Validator } from '../../src/protocol/index.js';
import { mulberry32 } from './prng.js';

const bytes = (...b: number[]): Buffer => Buffer.from(b);

/** Can some continuation still make prefix valid? (Independent oracle built on the native check.) */
function viable(prefix: Buffer): boolean {
  const tails = [[], [0x80], [0x80, 0x80], [0x80, 0x80, 0x80], [0x90], [0x90, 0x80], [0x90, 0x80, 0x80], [0xa0], [0xa0, 0x80]];
  return tails.some((t) => isUtf8(Buffer.concat([prefix, Buffer.from(t)])));
}

/** Index of the byte at which byte-by-byte feeding first returns false (-1 if never). */
function failIndex(data: Buffer): number {
  const v = new Utf8Validator();
  for (let i = 0; i < data.length; i++) if (!v.feed(data.subarray(i, i + 1))) return i;
  return -1;
}

describe('Utf8Validator', () => {
  const valid = [
    Buffer.from('plain ascii'),
    Buffer.from('κόσμε'),
    Buffer.from('€ 𝄞 \u{10FFFF} \u{FFFF} \u{E000}'),
    bytes(0xc2, 0x80),
    bytes(0xed, 0x9f, 0xbf),
    bytes(0xee, 0x80, 0x80),
    bytes(0xf0, 0x90, 0x80, 0x80),
    bytes(0xf4, 0x8f, 0xbf, 0xbf),
    Buffer.alloc(0),
  ];
  const invalid: Array<[string, Buffer, number]> = [
    // [name, bytes, index of the first byte that can never be valid]
    ['stray continuation', bytes(0x61, 0x80), 1],
    ['C0 lead (overlong)', bytes(0xc0, 0xaf), 0],
    ['C1 lead (overlong)', bytes(0xc1, 0xbf), 0],
    ['E0 overlong', bytes(0xe0, 0x80, 0xaf), 1],
    ['F0 overlong', bytes(0xf0, 0x8f, 0xbf, 0xbf), 1],
    ['surrogate D800', bytes(0x61, 0xed, 0xa0, 0x80), 2],
    ['above U+10FFFF', bytes(0xf4, 0x90, 0x80, 0x80), 1],
    ['F5 lead', bytes(0x61, 0x62, 0xf5, 0x80), 2],
    ['FF byte', bytes(0xff), 0],
    ['lead then ASCII', bytes(0xe2, 0x82, 0x41), 2],
  ];

  it('accepts valid text however it is chunked', () => {
    for (const data of valid) {
      for (let at = 0; at <= data.length; at++) {
        const v = new Utf8Validator();
        expect(v.feed(data.subarray(0, at))).toBe(true);
        expect(v.feed(data.subarray(at))).toBe(true);
        expect(v.end()).toBe(true);
      }
      expect(failIndex(data)).toBe(-1);
    }
  });

  for (const [name, data, index] of invalid) {
    it(`fails fast on ${name} at byte ${index}`, () => {
      expect(failIndex(data)).toBe(index);
      const v = new Utf8Validator();
      expect(v.feed(data)).toBe(false);
      expect(v.feed(Buffer.from('ok'))).toBe(false); // stays failed
      expect(v.end()).toBe(false);
    });
  }

  it('end() is false while a sequence is unfinished, reset() starts over', () => {
    const v = new Utf8Validator();
    expect(v.feed(bytes(0x61, 0xf0, 0x9f))).toBe(true);
    expect(v.end()).toBe(false);
    expect(v.feed(bytes(0x98, 0x80))).toBe(true);
    expect(v.end()).toBe(true);
    v.feed(bytes(0xff));
    v.reset();
    expect(v.feed(Buffer.from('again'))).toBe(true);
    expect(v.end()).toBe(true);
  });

  it('matches the native whole-buffer check and fails at the first non-viable byte (random, 3000 cases)', () => {
    const random = mulberry32(0x5eed);
    const alphabet = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf3, 0xf4, 0xf5, 0xff];
    for (let n = 0; n < 3000; n++) {
      const length = 1 + Math.floor(random() * 12);
      const data = Buffer.from(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]!));
      // Random chunking: the verdict equals the native one.
      const v = new Utf8Validator();
      let ok = true;
      for (let at = 0; at < data.length; ) {
        const size = 1 + Math.floor(random() * 4);
        ok = v.feed(data.subarray(at, at + size)) && ok;
        at += size;
      }
      expect(ok && v.end()).toBe(isUtf8(data));
      // Byte by byte: fails exactly where the prefix stops being viable.
      let expected = -1;
      for (let i = 0; i < data.length && expected < 0; i++) if (!viable(data.subarray(0, i + 1))) expected = i;
      expect(failIndex(data)).toBe(expected);
    }
  });
});
