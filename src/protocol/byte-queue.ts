// The bytes a decoder has received but not consumed: a list of the pushed chunks plus an offset
// into the first, so nothing is concatenated on push. Decoders keep it short (a frame header,
// a control frame), because data payloads are consumed as soon as they arrive.
//
// A chunk may be lent: valid only until the decoder's push returns (a socket read into a
// buffer that the next read reuses), with a buffer of the same length to put what is kept into.
// What leaves the queue then lies in that buffer (copied, or unmasked into it), and settle() moves
// what is left there before the push returns.
import { applyMask, unmaskInto } from './unmask.js';

const EMPTY = Buffer.alloc(0);

export class ByteQueue {
  private readonly chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private offset = 0;
  /** Where the last chunk's bytes go when it is lent (see above); undefined: it is not. */
  private lentInto: Buffer | undefined;
  /** Unconsumed bytes in total. */
  length = 0;

  /** `into`: `chunk` is lent, and this buffer of its length takes what is kept of it; settle()
   *  must follow before the loan ends. */
  push(chunk: Buffer, into?: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    this.lentInto = into;
  }

  /** The lent chunk's unconsumed bytes move to its buffer: the chunk may change after this. */
  settle(): void {
    const into = this.lentInto;
    if (into === undefined) return;
    this.lentInto = undefined;
    const last = this.chunks.length - 1;
    if (last < 0) return;
    const from = last === 0 ? this.offset : 0;
    this.chunks[last]!.copy(into, from, from);
    this.chunks[last] = into;
  }

  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
    this.length = 0;
    this.lentInto = undefined;
  }

  /** The byte at position k (k < length). */
  peek(k: number): number {
    let i = this.offset + k;
    const first = this.chunks[0];
    if (first !== undefined && i < first.length) return first[i]!;
    for (const chunk of this.chunks) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    return 0;
  }

  /** The first chunk and the read position in it, for callers that parse in place. */
  head(): Buffer | undefined {
    return this.chunks[0];
  }
  headOffset(): number {
    return this.offset;
  }

  /** Bytes readable without crossing a chunk boundary. */
  contiguous(): number {
    const first = this.chunks[0];
    return first === undefined ? 0 : first.length - this.offset;
  }

  skip(n: number): void {
    this.length -= n;
    let off = this.offset + n;
    while (this.chunks.length > 0) {
      const first = this.chunks[0]!;
      if (off < first.length) break;
      off -= first.length;
      this.chunks.shift();
    }
    this.offset = this.chunks.length === 0 ? 0 : off;
  }

  /** The buffer that views of chunks[0] are taken from: the chunk, or where its bytes go when it is
   *  lent (the caller fills that part). */
  private firstOwned(): Buffer {
    return this.lentInto !== undefined && this.chunks.length === 1 ? this.lentInto : this.chunks[0]!;
  }

  /** Removes and returns n bytes: a view into the pushed chunk when they lie in one, else a copy. */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0]!;
    if (this.offset + n <= first.length) {
      const owned = this.firstOwned();
      const end = this.offset + n;
      if (owned !== first) first.copy(owned, this.offset, this.offset, end);
      const view = this.offset === 0 && n === first.length ? owned : owned.subarray(this.offset, end);
      this.skip(n);
      return view;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0]!;
      const count = Math.min(n - filled, chunk.length - this.offset);
      chunk.copy(out, filled, this.offset, this.offset + count);
      filled += count;
      this.skip(count);
    }
    return out;
  }

  /** Removes and returns up to max bytes from the first chunk only (a view, copied only out of a
   *  lent chunk). */
  takeSome(max: number): Buffer {
    return this.takeFromFirst(max, undefined, 0);
  }

  /** Moves up to max bytes of the first chunk into `target` at `at` (XORed with `mask` when given,
   *  the first at position `phase` of its cycle), in one pass; returns how many. Nothing of them is
   *  kept here, lent chunk or not. */
  takeInto(target: Buffer, at: number, max: number, mask: Uint8Array | undefined, phase: number): number {
    const first = this.chunks[0];
    if (first === undefined || max === 0) return 0;
    const start = this.offset;
    const n = Math.min(max, first.length - start);
    if (mask !== undefined) unmaskInto(first.subarray(start, start + n), target.subarray(at, at + n), 0, n, mask, phase);
    else first.copy(target, at, start, start + n);
    this.skip(n);
    return n;
  }

  /** takeSome, the bytes XORed with `mask` (the first at position `phase` of its cycle): unmasked in
   *  place, or out of a lent chunk into its buffer, in one pass. */
  takeSomeUnmasked(max: number, mask: Uint8Array, phase: number): Buffer {
    return this.takeFromFirst(max, mask, phase);
  }

  private takeFromFirst(max: number, mask: Uint8Array | undefined, phase: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined || max === 0) return EMPTY;
    const start = this.offset;
    const n = Math.min(max, first.length - start);
    const owned = this.firstOwned();
    const view = start === 0 && n === first.length ? owned : owned.subarray(start, start + n);
    if (owned === first) {
      if (mask !== undefined) applyMask(view, mask, phase);
    } else if (mask !== undefined) unmaskInto(first, owned, start, n, mask, phase);
    else first.copy(owned, start, start, start + n);
    this.skip(n);
    return view;
  }
}
