// The bytes a decoder has received but not consumed: a list of the pushed chunks plus an offset
// into the first, so nothing is concatenated on push. Decoders keep it short (a frame header,
// a control frame), because data payloads are consumed as soon as they arrive.

const EMPTY = Buffer.alloc(0);

export class ByteQueue {
  private readonly chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private offset = 0;
  /** Unconsumed bytes in total. */
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  clear(): void {
    this.chunks.length = 0;
    this.offset = 0;
    this.length = 0;
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

  /** Removes and returns n bytes: a view into the pushed chunk when they lie in one, else a copy. */
  take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const first = this.chunks[0]!;
    if (this.offset + n <= first.length) {
      const view = this.offset === 0 && n === first.length ? first : first.subarray(this.offset, this.offset + n);
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

  /** Removes and returns up to max bytes from the first chunk only (a view, never a copy). */
  takeSome(max: number): Buffer {
    const first = this.chunks[0];
    if (first === undefined || max === 0) return EMPTY;
    const n = Math.min(max, first.length - this.offset);
    const view = this.offset === 0 && n === first.length ? first : first.subarray(this.offset, this.offset + n);
    this.skip(n);
    return view;
  }
}
