// Random and mutated frame streams (seeded, bounded) never make a decoder throw, and always end
// in clean events or exactly one error with a valid close code, with nothing after it. The same
// stream cut into random pieces must give the same events as the stream pushed whole.
import { describe, expect, it } from 'vitest';
import { isWsgateError } from '../../src/errors.js';
import type { WsgateError } from '../../src/errors.js';
import { createHixieDecoder, createHybiDecoder, isValidCloseCode } from '../../src/protocol/index.js';
import type { DecoderOptions, DecoderSink } from '../../src/protocol/index.js';
import { useNativeMask } from '../../src/protocol/unmask.js';
import { RecordingSink, frame, type DecoderEvent, type DecoderFactory } from './helpers.js';
import { mulberry32 } from './prng.js';
import { decodeWithWs, type WsEvent } from './ws-oracle.js';

type Random = () => number;
const int = (random: Random, n: number): number => Math.floor(random() * n);

function randomBytes(random: Random, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = int(random, 256);
  return out;
}

const SAMPLES = ['', 'a', 'hello', 'κόσμε', '€𝄞', 'x'.repeat(130)];

function randomPayload(random: Random): Buffer {
  switch (int(random, 4)) {
    case 0:
      return randomBytes(random, int(random, 140));
    case 1:
      return Buffer.alloc(int(random, 12) === 0 ? 65536 + int(random, 100) : int(random, 300), 0x61); // some 64-bit lengths
    default:
      return Buffer.from(SAMPLES[int(random, SAMPLES.length)]!);
  }
}

/** A plausible client stream: messages (sometimes fragmented, with control frames between). */
function hybiStream(random: Random): Buffer {
  const frames: Buffer[] = [];
  const count = 1 + int(random, 6);
  for (let m = 0; m < count; m++) {
    const opcode = int(random, 2) === 0 ? 1 : 2;
    const parts = 1 + int(random, 3);
    for (let p = 0; p < parts; p++) {
      frames.push(frame({ opcode: p === 0 ? opcode : 0, payload: randomPayload(random).subarray(0, 400), fin: p === parts - 1 }));
      if (int(random, 4) === 0) frames.push(frame({ opcode: 9 + int(random, 2), payload: randomBytes(random, int(random, 126)) }));
    }
  }
  if (int(random, 3) === 0) frames.push(frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8 + int(random, 30), 0x6f, 0x6b]) }));
  return Buffer.concat(frames);
}

function hixieStream(random: Random): Buffer {
  const frames: Buffer[] = [];
  for (let m = 1 + int(random, 6); m > 0; m--) {
    if (int(random, 4) === 0) frames.push(Buffer.from([0x80, int(random, 128)]), Buffer.alloc(0));
    else frames.push(Buffer.from([0x00]), Buffer.from(SAMPLES[int(random, SAMPLES.length)]!), Buffer.from([0xff]));
  }
  return Buffer.concat(frames);
}

function mutate(random: Random, stream: Buffer): Buffer {
  const out = Buffer.from(stream);
  switch (int(random, 5)) {
    case 0: // flip bits in a few bytes
      for (let n = 1 + int(random, 4); n > 0 && out.length > 0; n--) {
        const at = int(random, out.length);
        out[at] = out[at]! ^ (1 << int(random, 8));
      }
      return out;
    case 1: // overwrite a header-ish byte
      if (out.length > 0) out[int(random, Math.min(out.length, 16))] = int(random, 256);
      return out;
    case 2: // truncate
      return out.subarray(0, int(random, out.length + 1));
    case 3: // splice in random bytes
      return Buffer.concat([out.subarray(0, int(random, out.length + 1)), randomBytes(random, 1 + int(random, 20)), out]);
    default: // pure noise
      return randomBytes(random, 1 + int(random, 64));
  }
}

function randomPieces(random: Random, stream: Buffer): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = 1 + int(random, int(random, 2) === 0 ? 8 : 600);
    pieces.push(Buffer.from(stream.subarray(at, at + size)));
    at += size;
  }
  return pieces;
}

function run(factory: DecoderFactory, pieces: Buffer[], options: DecoderOptions): RecordingSink {
  const sink = new RecordingSink();
  const decoder = factory(sink, options);
  for (const piece of pieces) decoder.push(piece); // a throw here fails the test
  return sink;
}

const normalise = (events: DecoderEvent[]) => events.map((e) => (e.type === 'error' ? { ...e, message: '' } : e));

function checkOutcome(sink: RecordingSink, allowed: number[]): void {
  const { events, errors } = sink;
  const ends = events.findIndex((e) => e.type === 'error' || e.type === 'close');
  // Nothing after an error or a close, and at most one of them.
  if (ends !== -1) expect(ends).toBe(events.length - 1);
  expect(errors.length).toBeLessThanOrEqual(1);
  for (const error of errors) {
    expect(isWsgateError(error)).toBe(true);
    expect(allowed).toContain(error.closeCode);
    // 1004 is hybi-07/08's too-big code; everything else must be valid on the RFC 6455 wire.
    if (error.closeCode !== 1004) expect(isValidCloseCode(error.closeCode!)).toBe(true);
  }
}

function fuzz(factory: DecoderFactory, generate: (random: Random) => Buffer, options: DecoderOptions, count: number, seed: number): void {
  const random = mulberry32(seed);
  let errorsSeen = 0;
  let messagesSeen = 0;
  for (let n = 0; n < count; n++) {
    const base = generate(random);
    const stream = int(random, 4) === 0 ? base : mutate(random, base);
    const whole = run(factory, [Buffer.from(stream)], options);
    checkOutcome(whole, [1002, 1007, options.tooBigCloseCode ?? 1009]);
    const pieces = run(factory, randomPieces(random, stream), options);
    expect(normalise(pieces.events)).toEqual(normalise(whole.events));
    errorsSeen += whole.errors.length;
    messagesSeen += whole.events.filter((e) => e.type === 'message').length;
  }
  // The generator must exercise both outcomes, or the test proves little.
  expect(errorsSeen).toBeGreaterThan(count / 10);
  expect(messagesSeen).toBeGreaterThan(count / 10);
}

describe('decoder fuzzing', () => {
  it('hybi: 20000 random and mutated streams', () => {
    fuzz(createHybiDecoder, hybiStream, { maxMessageSize: 70000, requireMask: true }, 20000, 0xc0ffee);
  }, 60_000); // a few seconds normally; room for a loaded 2-core machine
  it('hybi with a small limit and the 7/8 too-big code: 3000 streams', () => {
    fuzz(createHybiDecoder, hybiStream, { maxMessageSize: 200, requireMask: true, tooBigCloseCode: 1004 }, 3000, 7);
  });
  it('hixie: 5000 random and mutated streams', () => {
    fuzz(createHixieDecoder, hixieStream, { maxMessageSize: 100 }, 5000, 0xbeef);
  });
});

/** Keeps what it is given, as a handler does: data is read only at the end (an event whose bytes
 *  changed after delivery shows up then). */
class KeepingSink implements DecoderSink {
  private readonly kept: Array<[string, Buffer | string | number]> = [];
  onMessage(data: Buffer, isBinary: boolean): void {
    this.kept.push([isBinary ? 'binary' : 'text', data]);
  }
  onPing(data: Buffer): void {
    this.kept.push(['ping', data]);
  }
  onPong(data: Buffer): void {
    this.kept.push(['pong', data]);
  }
  onClose(code: number, reason: string): void {
    this.kept.push(['close', `${code} ${reason}`]);
  }
  onError(error: WsgateError): void {
    this.kept.push(['error', error.closeCode ?? 0]);
  }
  events(): string[] {
    return this.kept.map(([kind, value]) => `${kind} ${Buffer.isBuffer(value) ? value.toString('hex') : value}`);
  }
}

/** The pieces pushed as a socket's shared read buffer delivers them: each lent in the same buffer
 *  (scribbled over after the push), with a fresh `into` to keep it in. */
function decodeLent(factory: DecoderFactory, pieces: Buffer[], options: DecoderOptions, random: Random): string[] {
  const sink = new KeepingSink();
  const decoder = factory(sink, options);
  const shared = Buffer.alloc(Math.max(1, ...pieces.map((p) => p.length)));
  for (const piece of pieces) {
    piece.copy(shared);
    decoder.push(shared.subarray(0, piece.length), Buffer.allocUnsafe(piece.length));
    shared.fill(int(random, 256));
  }
  return sink.events();
}

function decodeOwned(factory: DecoderFactory, pieces: Buffer[], options: DecoderOptions): string[] {
  const sink = new KeepingSink();
  const decoder = factory(sink, options);
  for (const piece of pieces) decoder.push(Buffer.from(piece));
  return sink.events();
}

describe('lent chunks (a shared read buffer)', () => {
  const lentFuzz = (factory: DecoderFactory, generate: (random: Random) => Buffer, options: DecoderOptions, count: number, seed: number): void => {
    const random = mulberry32(seed);
    let delivered = 0;
    for (let n = 0; n < count; n++) {
      const base = generate(random);
      const stream = int(random, 3) === 0 ? base : mutate(random, base);
      const pieces = randomPieces(random, stream);
      const owned = decodeOwned(factory, pieces, options);
      // Same events, same bytes, though every lent chunk was overwritten right after its push.
      expect(decodeLent(factory, pieces, options, random)).toEqual(owned);
      delivered += owned.filter((e) => !e.startsWith('error')).length;
    }
    expect(delivered).toBeGreaterThan(count / 2);
  };
  it('hybi, native unmasking: 5000 streams give what owned chunks give', () => {
    lentFuzz(createHybiDecoder, hybiStream, { maxMessageSize: 70000, requireMask: true }, 5000, 0x1e47);
  }, 60_000);
  it('hybi, our unmasking loop, unmasked frames allowed: 2000 streams', () => {
    useNativeMask(false);
    try {
      lentFuzz(createHybiDecoder, hybiStream, { maxMessageSize: 70000 }, 2000, 0x1e48);
    } finally {
      useNativeMask(true);
    }
  }, 60_000);
  it('hixie: 2000 streams', () => {
    lentFuzz(createHixieDecoder, hixieStream, { maxMessageSize: 100 }, 2000, 0x1e49);
  });
});

/** Our events in ws's shape (binary and text data both as hex). */
function asWsEvents(events: DecoderEvent[]): WsEvent[] {
  const out: WsEvent[] = [];
  for (const e of events) {
    if (e.type === 'message') out.push(['message', e.isBinary ? e.data : Buffer.from(e.data).toString('hex'), e.isBinary]);
    else if (e.type === 'ping' || e.type === 'pong') out.push([e.type, e.data]);
    else if (e.type === 'close') out.push(['close', e.code, e.reason]);
  }
  return out;
}

describe('hybi decoder against ws (differential)', () => {
  it('5000 streams: same events as ws when clean; never cleaner than ws', () => {
    const random = mulberry32(0xd1ff);
    const limit = 70000;
    let compared = 0;
    for (let n = 0; n < 5000; n++) {
      const base = hybiStream(random);
      const stream = int(random, 3) === 0 ? base : mutate(random, base);
      const pieces = randomPieces(random, stream);
      const ours = run(createHybiDecoder, pieces.map((p) => Buffer.from(p)), { maxMessageSize: limit, requireMask: true });
      const theirs = decodeWithWs(pieces.map((p) => Buffer.from(p)), limit);
      const mine = asWsEvents(ours.events);
      // We enforce a superset of ws's rules (minimal lengths; UTF-8 failing fast), so we stop no
      // later than ws: our events are a prefix of its events.
      expect(theirs.events.slice(0, mine.length)).toEqual(mine);
      if (theirs.errorCode !== undefined) expect(ours.errors).toHaveLength(1);
      if (ours.errors.length === 0) {
        expect(theirs.errorCode).toBeUndefined();
        expect(theirs.events).toEqual(mine);
        compared++;
      } else if (theirs.errorCode !== undefined && theirs.events.length === mine.length) {
        // Both stopped after the same events: the same close code, unless ours came from a rule ws
        // lacks (a non-minimal length) or fired earlier (UTF-8 failing fast).
        const error = ours.errors[0]!;
        if (error.closeCode !== 1007 && !error.message.includes('minimal')) expect(error.closeCode).toBe(theirs.errorCode);
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});
