// XOR masking (RFC 6455 §5.3), in place. Aligned bulk goes through a Uint32Array view, one
// 32-bit XOR per 4 bytes; the few unaligned bytes at either end are done one at a time.

const maskBytes = new Uint8Array(4);
const maskWord = new Uint32Array(maskBytes.buffer);
/** Below this, a view costs more than it saves. */
const WORD_THRESHOLD = 64;

/** XORs data with mask, where data[0] sits at position `phase` (0-3) of the 4-byte mask cycle. */
export function applyMask(data: Uint8Array, mask: Uint8Array, phase: number): void {
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
  // Short tails (and short payloads): four bytes per step with the mask in locals.
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
