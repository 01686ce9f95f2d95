// XOR masking (RFC 6455 §5.3), in place, with the faster of two loops for each size (measured by
// bench/codec.bench.mjs, "unmask" rows): below NATIVE_MIN_BYTES our JS loop, where a call into
// native code costs more than the XOR itself; from there up bufferutil's native loop (8 bytes per
// step; the binary comes prebuilt in its npm package), 3-7× faster from 1 KiB up. Where that binary
// does not load (a platform without a prebuild), our loop does every size.
import { createRequire } from 'node:module';

/** bufferutil's loops, data[0] (source[0]) at position 0 of the mask cycle: unmask XORs data with
 *  the 4-byte mask in place; mask writes source XOR mask to output[offset, offset + length). */
interface NativeMask {
  unmask(data: Uint8Array, mask: Uint8Array): void;
  mask(source: Uint8Array, mask: Uint8Array, output: Uint8Array, offset: number, length: number): void;
}

/** From this many bytes up the native loop wins: a call costs ~45 ns whatever the size, our
 *  byte loop ~0.5 ns a byte (equal around 80-100 B; at 125 B native is ~1.5× faster). */
export const NATIVE_MIN_BYTES = 96;

/** undefined: not tried yet (loaded at the first payload that needs it); null: not available. */
let nativeMask: NativeMask | null | undefined;
/** The mask rotated to start at `phase`: the native loop always starts at position 0. */
const rotated = new Uint8Array(4);

function loadNativeMask(): NativeMask | null {
  nativeMask = null;
  try {
    const require = createRequire(import.meta.url);
    const bufferutil = require('bufferutil') as Partial<NativeMask>;
    // Without its binary bufferutil exports a plain byte loop instead, slower than ours: keep ours.
    if (bufferutil !== require('bufferutil/fallback') && typeof bufferutil.unmask === 'function' && typeof bufferutil.mask === 'function') {
      nativeMask = bufferutil as NativeMask;
    }
  } catch {
    // Not installed (or not loadable): our loop it is. Nothing to log; it is only slower.
  }
  return nativeMask;
}

/** Whether the native loop is in use (loading it now if it was not tried yet). */
export function nativeMaskAvailable(): boolean {
  return (nativeMask === undefined ? loadNativeMask() : nativeMask) !== null;
}

/** For benches and tests: `false` makes applyMask and unmaskInto use our loop for every size,
 *  `true` goes back to the native one where it loads. */
export function useNativeMask(on: boolean): void {
  nativeMask = on ? undefined : null;
}

/** The mask rotated to start at `phase` (the native loops always start at position 0). */
function rotate(mask: Uint8Array, phase: number): Uint8Array {
  if (phase === 0) return mask;
  rotated[0] = mask[phase & 3]!;
  rotated[1] = mask[(phase + 1) & 3]!;
  rotated[2] = mask[(phase + 2) & 3]!;
  rotated[3] = mask[(phase + 3) & 3]!;
  return rotated;
}

/** XORs data with mask, where data[0] sits at position `phase` (0-3) of the 4-byte mask cycle. */
export function applyMask(data: Uint8Array, mask: Uint8Array, phase: number): void {
  if (data.length < NATIVE_MIN_BYTES) return xorBytes(data, data, 0, data.length, mask, phase);
  const native = nativeMask === undefined ? loadNativeMask() : nativeMask;
  if (native === null) return applyMaskJs(data, mask, phase);
  native.unmask(data, rotate(mask, phase));
}

/** From this many bytes up unmaskInto calls the native loop: its call (five arguments, and a view
 *  of the source) costs more than applyMask's, so our byte loop wins for longer (bench/codec.bench.mjs,
 *  "decode lent" 125 B row, after/before: 0.69 with the native loop from 96 B up, 0.82-0.84 with
 *  ours at that size, the threshold at 256 B, 512 B or 1 KiB). */
export const NATIVE_INTO_MIN_BYTES = 256;

/** Writes source[start, start + length) XOR mask to the same positions of target, source[start] at
 *  position `phase` of the mask cycle: unmasking while copying, in one pass over the bytes. */
export function unmaskInto(source: Uint8Array, target: Uint8Array, start: number, length: number, mask: Uint8Array, phase: number): void {
  if (length < NATIVE_INTO_MIN_BYTES) return xorBytes(source, target, start, start + length, mask, (phase - start) & 3);
  const native = nativeMask === undefined ? loadNativeMask() : nativeMask;
  if (native !== null) return native.mask(source.subarray(start, start + length), rotate(mask, phase), target, start, length);
  target.set(source.subarray(start, start + length), start);
  applyMaskJs(target.subarray(start, start + length), mask, phase);
}

const maskBytes = new Uint8Array(4);
const maskWord = new Uint32Array(maskBytes.buffer);
/** Below this, a Uint32Array view costs more than it saves. */
const WORD_THRESHOLD = 64;

/** Our loop, for every size when the native one is not there (below NATIVE_MIN_BYTES applyMask
 *  runs its byte loop alone): aligned bulk through a Uint32Array view, one 32-bit XOR per 4 bytes;
 *  the few unaligned bytes at either end one at a time. */
export function applyMaskJs(data: Uint8Array, mask: Uint8Array, phase: number): void {
  const len = data.length;
  let i = 0;
  if (len >= WORD_THRESHOLD) {
    const lead = (4 - (data.byteOffset & 3)) & 3;
    for (; i < lead; i++) data[i] = data[i]! ^ mask[(phase + i) & 3]!;
    const p = (phase + i) & 3;
    maskBytes[0] = mask[p]!;
    maskBytes[1] = mask[(p + 1) & 3]!;
    maskBytes[2] = mask[(p + 2) & 3]!;
    maskBytes[3] = mask[(p + 3) & 3]!;
    const word = maskWord[0]!;
    const words = (len - i) >>> 2;
    const view = new Uint32Array(data.buffer, data.byteOffset + i, words);
    let k = 0;
    for (const even = words & ~1; k < even; k += 2) {
      view[k] = view[k]! ^ word;
      view[k + 1] = view[k + 1]! ^ word;
    }
    if (k < words) view[k] = view[k]! ^ word;
    i += words << 2;
  }
  xorBytes(data, data, i, len, mask, phase);
}

/** target[from, end) = source[from, end) XOR mask, byte i at position `phase + i` of the mask cycle,
 *  byte by byte (short payloads, and the tail of long ones; source and target may be the same):
 *  four bytes per step with the mask in locals. */
function xorBytes(source: Uint8Array, target: Uint8Array, from: number, end: number, mask: Uint8Array, phase: number): void {
  let i = from;
  const m0 = mask[(phase + i) & 3]!;
  const m1 = mask[(phase + i + 1) & 3]!;
  const m2 = mask[(phase + i + 2) & 3]!;
  const m3 = mask[(phase + i + 3) & 3]!;
  for (; i + 3 < end; i += 4) {
    target[i] = source[i]! ^ m0;
    target[i + 1] = source[i + 1]! ^ m1;
    target[i + 2] = source[i + 2]! ^ m2;
    target[i + 3] = source[i + 3]! ^ m3;
  }
  if (i < end) target[i] = source[i]! ^ m0;
  if (i + 1 < end) target[i + 1] = source[i + 1]! ^ m1;
  if (i + 2 < end) target[i + 2] = source[i + 2]! ^ m2;
}
