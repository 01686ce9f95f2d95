// Both masking loops (ours, and bufferutil's native one behind applyMask from NATIVE_MIN_BYTES up)
// against a byte-by-byte reference: every mask phase, every alignment of the view in its
// ArrayBuffer, every length 0-80, lengths around the switch-over, and large buffers; and
// unmaskInto (source to another buffer) the same way.
import { afterEach, describe, expect, it } from 'vitest';
import { applyMask, applyMaskJs, NATIVE_INTO_MIN_BYTES, NATIVE_MIN_BYTES, nativeMaskAvailable, unmaskInto, useNativeMask } from '../../src/protocol/unmask.js';

type Mask = (data: Uint8Array, mask: Uint8Array, phase: number) => void;

function reference(data: Uint8Array, mask: Uint8Array, phase: number): Buffer {
  const out = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ mask[(phase + i) % 4]!;
  return out;
}

const MASK = Buffer.from([0x9a, 0x01, 0xff, 0x5c]);
const LENGTHS = [
  ...Array.from({ length: 81 }, (_, i) => i),
  NATIVE_MIN_BYTES - 1,
  NATIVE_MIN_BYTES,
  NATIVE_MIN_BYTES + 1,
  125,
  126,
  1000,
  1023,
  16 * 1024 + 3,
  65537,
  (1 << 20) + 5,
];

/** Masks a view at byte offset `offset` of its buffer and checks it, and the bytes around it. */
function check(fn: Mask, length: number, phase: number, offset: number, mask: Uint8Array = MASK): void {
  const backing = Buffer.alloc(offset + length + 3);
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + length) & 0xff;
  const data = backing.subarray(offset, offset + length);
  const expected = reference(data, mask, phase);
  fn(data, mask, phase);
  expect(data.equals(expected), `length ${length}, phase ${phase}, offset ${offset}`).toBe(true);
  // The bytes before and after the view are untouched.
  for (let i = 0; i < offset; i++) expect(backing[i]).toBe((i * 37 + length) & 0xff);
  for (let i = offset + length; i < backing.length; i++) expect(backing[i]).toBe((i * 37 + length) & 0xff);
}

function everyCase(fn: Mask): void {
  for (const length of LENGTHS) {
    for (let phase = 0; phase < 4; phase++) {
      // Offsets 0-8: every alignment to 4 and to 8 bytes (the native loop works in 8-byte words).
      for (let offset = 0; offset <= 8; offset++) check(fn, length, phase, offset);
    }
  }
}

describe('masking', () => {
  afterEach(() => useNativeMask(true));

  it('our loop equals byte-wise XOR for every length 0-80, phase and alignment, and for large buffers', () => {
    everyCase(applyMaskJs);
  });

  it('loads bufferutil’s native loop where its package ships a prebuilt binary (linux-x64 here)', () => {
    useNativeMask(true);
    const prebuilt = ['linux-x64', 'darwin-x64', 'darwin-arm64', 'win32-x64', 'win32-ia32'].includes(`${process.platform}-${process.arch}`);
    expect(nativeMaskAvailable()).toBe(prebuilt);
  });

  it('applyMask with the native loop equals byte-wise XOR for the same cases', () => {
    useNativeMask(true);
    everyCase(applyMask);
  });

  it('applyMask without the native loop (a platform without the binary) equals byte-wise XOR', () => {
    useNativeMask(false);
    expect(nativeMaskAvailable()).toBe(false);
    everyCase(applyMask);
  });

  it('masks a plain Uint8Array (not a Buffer) with a Uint8Array mask, at every phase, on both paths', () => {
    for (const native of [true, false]) {
      useNativeMask(native);
      for (let phase = 0; phase < 4; phase++) {
        const bytes = new Uint8Array(new ArrayBuffer(4096 + 3), 3, 4096).fill(0x33);
        const expected = reference(bytes, MASK, phase);
        applyMask(bytes, new Uint8Array(MASK), phase);
        expect(Buffer.from(bytes).equals(expected)).toBe(true);
      }
    }
  });

  it('a payload split at any point and masked in pieces (phase = offset & 3) equals masking it whole', () => {
    const whole = Buffer.alloc(700);
    for (let i = 0; i < whole.length; i++) whole[i] = (i * 11) & 0xff;
    const expected = reference(whole, MASK, 0);
    for (const cut of [1, 2, 3, 5, 63, 95, 96, 97, 128, 333, 699]) {
      const data = Buffer.from(whole);
      applyMask(data.subarray(0, cut), MASK, 0);
      applyMask(data.subarray(cut), MASK, cut & 3);
      expect(data.equals(expected), `cut at ${cut}`).toBe(true);
    }
  });

  it('unmaskInto writes a range of the source XOR mask to the same range of the target, and touches nothing else, on both paths', () => {
    for (const native of [true, false]) {
      useNativeMask(native);
      for (const length of [...LENGTHS, NATIVE_INTO_MIN_BYTES - 1, NATIVE_INTO_MIN_BYTES]) {
        for (let phase = 0; phase < 4; phase++) {
          for (const [from, to] of [
            [0, 0],
            [1, 5],
            [3, 2],
            [7, 8],
          ] as const) {
            // The bytes at [start, start + length) of both; the views start at `from` and `to` of their memory.
            const start = 5;
            const source = Buffer.alloc(from + start + length + 2).subarray(from);
            for (let i = 0; i < source.length; i++) source[i] = (i * 29 + phase) & 0xff;
            const before = Buffer.from(source);
            const target = Buffer.alloc(to + start + length + 3, 0xee).subarray(to);
            unmaskInto(source, target, start, length, MASK, phase);
            const where = `native ${native}, length ${length}, phase ${phase}, offsets ${from}/${to}`;
            expect(target.subarray(start, start + length).equals(reference(before.subarray(start, start + length), MASK, phase)), where).toBe(true);
            expect(source.equals(before), where).toBe(true);
            expect([...target.subarray(0, start), ...target.subarray(start + length)].every((b) => b === 0xee), where).toBe(true);
          }
        }
      }
    }
  });
});
