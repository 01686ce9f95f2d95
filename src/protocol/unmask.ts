// XOR masking (RFC 6455 §5.3), in place, with the faster of two loops for each size (measured by
// bench/codec.bench.mjs, "unmask" rows): below NATIVE_MIN_BYTES our JS loop, where a call into
// native code costs more than the XOR itself; from there up bufferutil's native loop (8 bytes per
// step; the binary comes prebuilt in its npm package), 3-7× faster from 1 KiB up. Where that binary
// does not load (a platform without a prebuild), our loop does every size.
import { createRequire } from 'node:module';

/** bufferutil's unmask: XORs data with the 4-byte mask, data[0] at position 0 of the cycle. */
type NativeUnmask = (data: Uint8Array, mask: Uint8Array) => void;

/** From this many bytes up the native loop wins: a call costs ~45 ns whatever the size, our
 *  byte loop ~0.5 ns a byte (equal around 80-100 B; at 125 B native is ~1.5× faster). */
export const NATIVE_MIN_BYTES = 96;

/** undefined: not tried yet (loaded at the first payload that needs it); null: not available. */
let nativeUnmask: NativeUnmask | null | undefined;
/** The mask rotated to start at `phase`: the native loop always starts at position 0. */
const rotated = new Uint8Array(4);

function loadNativeUnmask(): NativeUnmask | null {
  nativeUnmask = null;
  try {
    const require = createRequire(import.meta.url);
    const bufferutil = require('bufferutil') as { unmask?: unknown };
    // Without its binary bufferutil exports a plain byte loop instead, slower than ours: keep ours.
    if (bufferutil !== require('bufferutil/fallback') && typeof bufferutil.unmask === 'function') {
      nativeUnmask = bufferutil.unmask as NativeUnmask;
    }
  } catch {
    // Not installed (or not loadable): our loop it is. Nothing to log; it is only slower.
  }
  return nativeUnmask;
}

/** Whether the native loop is in use (loading it now if it was not tried yet). */
export function nativeMaskAvailable(): boolean {
  return (nativeUnmask === undefined ? loadNativeUnmask() : nativeUnmask) !== null;
}

/** For benches and tests: `false` makes applyMask use our loop for every size, `true` goes back to
 *  the native one where it loads. */
export function useNativeMask(on: boolean): void {
  nativeUnmask = on ? undefined : null;
}

/** XORs data with mask, where data[0] sits at position `phase` (0-3) of the 4-byte mask cycle. */
export function applyMask(data: Uint8Array, mask: Uint8Array, phase: number): void {
  if (data.length < NATIVE_MIN_BYTES) return xorBytes(data, mask, phase, 0);
  const native = nativeUnmask === undefined ? loadNativeUnmask() : nativeUnmask;
  if (native === null) return applyMaskJs(data, mask, phase);
  if (phase === 0) return native(data, mask);
  rotated[0] = mask[phase & 3]!;
  rotated[1] = mask[(phase + 1) & 3]!;
  rotated[2] = mask[(phase + 2) & 3]!;
  rotated[3] = mask[(phase + 3) & 3]!;
  native(data, rotated);
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
  xorBytes(data, mask, phase, i);
}

/** data[from..] byte by byte (short payloads, and the tail of long ones): four bytes per step with
 *  the mask in locals. */
function xorBytes(data: Uint8Array, mask: Uint8Array, phase: number, from: number): void {
  const len = data.length;
  let i = from;
  const m0 = mask[(phase + i) & 3]!;
  const m1 = mask[(phase + i + 1) & 3]!;
  const m2 = mask[(phase + i + 2) & 3]!;
  const m3 = mask[(phase + i + 3) & 3]!;
  for (; i + 3 < len; i += 4) {
    data[i] = data[i]! ^ m0;
    data[i + 1] = data[i + 1]! ^ m1;
    data[i + 2] = data[i + 2]! ^ m2;
    data[i + 3] = data[i + 3]! ^ m3;
  }
  if (i < len) data[i] = data[i]! ^ m0;
  if (i + 1 < len) data[i + 1] = data[i + 1]! ^ m1;
  if (i + 2 < len) data[i + 2] = data[i + 2]! ^ m2;
}
