// A one-frame message of WHOLE_MESSAGE_MIN (64 KiB) or more that does not arrive in one push is
// written straight into a buffer of its own size: the decoder keeps nothing of the pushed chunks
// (a lent socket read goes back at once) and joins nothing at the end.
import { describe, expect, it } from 'vitest';
import type { WsgateError } from '../../src/errors.js';
import { createHybiDecoder, type DecoderSink } from '../../src/protocol/index.js';
import { SERVER, frame } from './helpers.js';
import { mulberry32 } from './prng.js';

class BufferSink implements DecoderSink {
  readonly messages: Array<{ data: Buffer; isBinary: boolean }> = [];
  readonly errors: WsgateError[] = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.messages.push({ data, isBinary });
  }
  onPing(): void {}
  onPong(): void {}
  onClose(): void {}
  onError(error: WsgateError): void {
    this.errors.push(error);
  }
}

function pattern(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** `stream` cut at `cuts` (offsets, ascending). */
function cut(stream: Buffer, cuts: number[]): Buffer[] {
  const bounds = [0, ...cuts, stream.length];
  return bounds.slice(1).map((end, i) => Buffer.from(stream.subarray(bounds[i], end)));
}

describe('one-frame messages from 64 KiB up, arriving in pieces', () => {
  const payload = pattern(100_000, 7);
  const wire = frame({ opcode: 0x2, payload });
  // 100,000 needs the 64-bit length: the header is 2 + 8 + 4 bytes.
  const header = 14;

  it('arrive intact whatever the cuts (inside the header, the mask, the payload), and the decoder keeps nothing of what was pushed', () => {
    for (const cuts of [[1], [5, 11], [header], [header + 1, header + 3], [13, 40_000, 40_001, 99_999], [header + 65_535, header + 65_536]]) {
      const sink = new BufferSink();
      const decoder = createHybiDecoder(sink, SERVER);
      const pieces = cut(wire, cuts);
      for (const [i, piece] of pieces.entries()) {
        decoder.push(piece);
        // Past the header, nothing of a piece is held: the message's own buffer has its bytes.
        if (i < pieces.length - 1 && cuts[i]! >= header) expect(decoder.holdsInput()).toBe(false);
      }
      // Its payload split between pushes, the message is a buffer of its own; all in the last push, a view of it.
      const split = cuts.some((c) => c > header);
      for (const p of pieces) if (split) expect(sink.messages[0]?.data.buffer).not.toBe(p.buffer);
      if (!split) expect(sink.messages[0]?.data.buffer).toBe(pieces.at(-1)!.buffer);
      expect(sink.errors).toEqual([]);
      expect(sink.messages).toHaveLength(1);
      expect(sink.messages[0]!.isBinary).toBe(true);
      expect(sink.messages[0]!.data.equals(payload)).toBe(true);
    }
  });

  it('lent pieces (a socket read the next read overwrites) are copied out during the push, never kept', () => {
    const sink = new BufferSink();
    const decoder = createHybiDecoder(sink, SERVER);
    const read = Buffer.alloc(wire.length);
    const into = Buffer.alloc(wire.length);
    for (const [start, end] of [[0, 30_000], [30_000, 60_000], [60_000, wire.length]] as const) {
      const chunk = read.subarray(0, end - start);
      wire.copy(chunk, 0, start, end);
      decoder.push(chunk, into.subarray(0, end - start));
      chunk.fill(0xee);
      into.fill(0xdd);
      if (end < wire.length) expect(decoder.holdsInput()).toBe(false);
    }
    expect(sink.errors).toEqual([]);
    expect(sink.messages[0]!.data.equals(payload)).toBe(true);
  });

  it('a frame that follows in the same pushes decodes as usual', () => {
    const small = frame({ opcode: 0x1, payload: 'after' });
    const sink = new BufferSink();
    const decoder = createHybiDecoder(sink, SERVER);
    for (const piece of cut(Buffer.concat([wire, small, wire]), [50_000, wire.length + 3, wire.length + small.length + 20])) decoder.push(piece);
    expect(sink.messages.map((m) => m.data.length)).toEqual([100_000, 5, 100_000]);
    expect(sink.messages[1]!.data.toString()).toBe('after');
    expect(sink.messages[2]!.data.equals(payload)).toBe(true);
  });

  it('text is checked as it arrives: a code point cut between pieces passes, invalid UTF-8 fails in the piece that brings it', () => {
    const text = Buffer.from('é'.repeat(40_000) + 'ok', 'utf8'); // 80,002 bytes, two per 'é'
    const good = frame({ opcode: 0x1, payload: text });
    const sink = new BufferSink();
    const decoder = createHybiDecoder(sink, SERVER);
    // 14 + 1001 bytes: the first piece ends inside an 'é'.
    for (const piece of cut(good, [14 + 1001])) decoder.push(piece);
    expect(sink.errors).toEqual([]);
    expect(sink.messages[0]!.data.toString('utf8')).toBe(text.toString('utf8'));

    const broken = Buffer.from(text);
    broken[50_000] = 0xff;
    const bad = frame({ opcode: 0x1, payload: broken });
    const failing = new BufferSink();
    const failingDecoder = createHybiDecoder(failing, SERVER);
    const [first, second, third] = cut(bad, [14 + 20_000, 14 + 60_000]);
    failingDecoder.push(first!);
    expect(failing.errors).toEqual([]);
    failingDecoder.push(second!);
    expect(failing.errors.map((e) => e.closeCode)).toEqual([1007]);
    failingDecoder.push(third!);
    expect(failing.messages).toEqual([]);
  });

  it('a message that arrives in one push is still a view of it (no copy), and smaller or fragmented ones go in pieces as before', () => {
    const sink = new BufferSink();
    const decoder = createHybiDecoder(sink, SERVER);
    const once = Buffer.from(wire);
    decoder.push(once);
    expect(sink.messages[0]!.data.buffer).toBe(once.buffer);

    // Fragmented: the message's size is not known at its first frame.
    const fragments = Buffer.concat([frame({ opcode: 0x2, payload: payload.subarray(0, 70_000), fin: false }), frame({ opcode: 0x0, payload: payload.subarray(70_000) })]);
    const pieces = cut(fragments, [30_000]);
    decoder.push(pieces[0]!);
    expect(decoder.holdsInput()).toBe(true);
    decoder.push(pieces[1]!);
    expect(sink.messages[1]!.data.equals(payload)).toBe(true);
    expect(sink.errors).toEqual([]);
  });

  it('random streams of large and small frames, cut at random, some pushes lent: every message arrives intact', () => {
    const random = mulberry32(16);
    const int = (n: number): number => Math.floor(random() * n);
    for (let round = 0; round < 40; round++) {
      const payloads = Array.from({ length: 1 + int(4) }, (_, i) => pattern(int(3) === 0 ? int(2000) : 60_000 + int(200_000), round * 10 + i));
      const wire = Buffer.concat(payloads.map((payload) => frame({ opcode: 0x2, payload, mask: Buffer.from([int(256), int(256), int(256), int(256)]) })));
      const cuts = [...new Set(Array.from({ length: int(12) }, () => 1 + int(wire.length - 1)))].sort((a, b) => a - b);
      const sink = new BufferSink();
      const decoder = createHybiDecoder(sink, SERVER);
      for (const piece of cut(wire, cuts)) {
        if (int(2) === 0) decoder.push(piece);
        else {
          // Lent: the piece is overwritten once the push returns, as a shared socket read is.
          const into = Buffer.alloc(piece.length);
          decoder.push(piece, into);
          piece.fill(0xaa);
        }
      }
      expect(sink.errors).toEqual([]);
      expect(sink.messages.map((m) => m.data.toString('hex'))).toEqual(payloads.map((p) => p.toString('hex')));
    }
  });
});
