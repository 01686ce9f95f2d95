// Incremental UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
// The bulk of each chunk goes to node's native `isUtf8`; only a sequence cut by a chunk boundary
// is tracked byte by byte, so a stream fails at the first byte that can never become valid.
import { isUtf8 } from 'node:buffer';

enum Utf8State {
  /** Between sequences. */
  Ready,
  /** Inside a multi-byte sequence cut at a chunk boundary. */
  Partial,
  Failed,
}

/** Continuation bytes a sequence still needs after its lead byte (0 = invalid lead). */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/** Allowed range of the byte right after a lead byte (the rest are always 0x80-0xBF). */
function secondByteLow(lead: number): number {
  return lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
}
function secondByteHigh(lead: number): number {
  return lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
}

export class Utf8Validator {
  private state = Utf8State.Ready;
  /** Continuation bytes still expected in the current partial sequence. */
  private need = 0;
  /** Bounds of the next continuation byte. */
  private low = 0x80;
  private high = 0xbf;

  /** Feed the next chunk. False once the stream can no longer be valid UTF-8 (and from then on). */
  feed(chunk: Uint8Array): boolean {
    if (this.state === Utf8State.Failed) return false;
    let start = 0;
    if (this.state === Utf8State.Partial) {
      start = this.continueSequence(chunk);
      if (start < 0) return this.fail();
      if (this.state === Utf8State.Partial) return true; // chunk used up inside the sequence
    }
    const end = this.completeEnd(chunk, start);
    if (end < 0) return this.fail();
    if (end > start && !isUtf8(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end))) {
      return this.fail();
    }
    if (end < chunk.length && !this.beginSequence(chunk, end)) return this.fail();
    return true;
  }

  /** True when everything fed so far is valid and no sequence is left unfinished. */
  end(): boolean {
    return this.state === Utf8State.Ready;
  }

  /** Back to the initial state, for the next message. */
  reset(): void {
    this.state = Utf8State.Ready;
    this.need = 0;
  }

  private fail(): false {
    this.state = Utf8State.Failed;
    return false;
  }

  /** Consumes continuation bytes of the pending sequence; returns the next index, or -1 on a bad byte. */
  private continueSequence(chunk: Uint8Array): number {
    let i = 0;
    while (this.need > 0 && i < chunk.length) {
      const b = chunk[i]!;
      if (b < this.low || b > this.high) return -1;
      this.low = 0x80;
      this.high = 0xbf;
      this.need--;
      i++;
    }
    if (this.need === 0) this.state = Utf8State.Ready;
    return i;
  }

  /** Index where a trailing sequence cut by the chunk end begins (chunk.length if none). */
  private completeEnd(chunk: Uint8Array, start: number): number {
    const len = chunk.length;
    const floor = Math.max(start, len - 3);
    for (let i = len - 1; i >= floor; i--) {
      const b = chunk[i]!;
      if (b < 0x80) return len;
      if (b >= 0xc0) {
        const seq = sequenceLength(b);
        // An invalid lead is left to isUtf8, which rejects it.
        return seq !== 0 && i + seq > len ? i : len;
      }
    }
    return len;
  }

  /** Validates the unfinished tail chunk[from..] as a prefix and remembers what it still needs. */
  private beginSequence(chunk: Uint8Array, from: number): boolean {
    const lead = chunk[from]!;
    this.need = sequenceLength(lead) - 1;
    this.low = secondByteLow(lead);
    this.high = secondByteHigh(lead);
    this.state = Utf8State.Partial;
    return this.continueSequence(chunk.subarray(from + 1)) >= 0;
  }
}

/** Below this, an ASCII scan in JS is cheaper than the call into the native check. */
const SMALL_CHECK = 64;

/** Whole-buffer check: native, with a JS ASCII shortcut for short buffers. */
export function isValidUtf8(data: Uint8Array): boolean {
  const len = data.length;
  if (len <= SMALL_CHECK) {
    let bits = 0;
    for (let i = 0; i < len; i++) bits |= data[i]!;
    if (bits < 0x80) return true;
  }
  return isUtf8(data);
}
