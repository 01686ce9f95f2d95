import { describe, expect, it } from 'vitest';
import { applyMask } from '../../src/protocol/unmask.js';

function naive(data: Buffer, mask: Buffer, phase: number): Buffer {
  return Buffer.from(data.map((b, i) => b ^ mask[(phase + i) % 4]!));
}

describe('applyMask', () => {
  it('equals byte-wise XOR for every length 0-80, phase and alignment, and for large buffers', () => {
    const mask = Buffer.from([0x9a, 0x01, 0xff, 0x5c]);
    const lengths = [...Array.from({ length: 81 }, (_, i) => i), 1000, 65537];
    for (const length of lengths) {
      for (let phase = 0; phase < 4; phase++) {
        for (let offset = 0; offset < 4; offset++) {
          const backing = Buffer.alloc(length + offset);
          for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + length) & 0xff;
          const data = backing.subarray(offset);
          const expected = naive(data, mask, phase);
          applyMask(data, mask, phase);
          expect(data.equals(expected)).toBe(true);
          // The bytes before the view are untouched.
          for (let i = 0; i < offset; i++) expect(backing[i]).toBe((i * 37 + length) & 0xff);
        }
      }
    }
  });
});
