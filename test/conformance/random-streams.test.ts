// Seeded random traffic, in the spirit of Autobahn's fuzzing client: valid messages of random type,
// size and fragmentation, pings between fragments, the byte stream cut into random chunks; then the
// same followed by one random protocol violation. Deterministic: a failing seed reproduces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFrame, closePayload, fragment, OP, type FrameSpec } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectCleanClose, expectFailure, expectMessages, expectPongs, withClient, type Message } from './outcome.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

/** mulberry32: a tiny seeded PRNG, so every run sends the same bytes. */
function prng(seed: number): (below: number) => number {
  let state = seed >>> 0;
  return (below) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * below);
  };
}

/** 1- to 4-byte UTF-8 characters; random fragment cuts will split them. */
const TEXT_BYTES = ['a', 'Z', ' ', 'µ', 'ß', 'κ', 'ό', '€', '𝄞', '\u0000', '\uFFFD'].map((c) => Buffer.from(c, 'utf8'));

function randomMessage(rand: (n: number) => number): Message {
  const sizes = [0, 1, 125, 126, 127, 1000, 65535, 65536, 70000];
  const size = rand(3) === 0 ? sizes[rand(sizes.length)]! : rand(3000);
  if (rand(2) === 0) return { opcode: OP.binary, data: Buffer.from(Array.from({ length: size }, () => rand(256))) };
  const chars: Buffer[] = [];
  for (let bytes = 0; bytes < size; ) {
    const char = TEXT_BYTES[rand(TEXT_BYTES.length)]!;
    chars.push(char);
    bytes += char.length;
  }
  return { opcode: OP.text, data: Buffer.concat(chars) };
}

/** Random fragment sizes (cutting text anywhere, also inside code points); pings between some. */
function randomFrames(rand: (n: number) => number, message: Message, pings: Buffer[]): FrameSpec[] {
  const sizes: number[] = [];
  let left = message.data.length;
  const parts = 1 + rand(5);
  for (let i = 1; i < parts; i++) {
    const size = rand(left + 1);
    sizes.push(size);
    left -= size;
  }
  sizes.push(left);
  return fragment(message.opcode, message.data, sizes).flatMap((frame) => {
    if (frame.fin || rand(3) !== 0) return [frame];
    const ping = Buffer.from(`ping ${pings.length}`);
    pings.push(ping);
    return [frame, { opcode: OP.ping, payload: ping }];
  });
}

async function sendInRandomChunks(write: (b: Buffer) => void, bytes: Buffer, rand: (n: number) => number): Promise<void> {
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + rand(rand(4) === 0 ? 16 : 8192);
    write(bytes.subarray(at, at + size));
    at += size;
    if (rand(4) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

const VIOLATIONS: { name: string; frames: FrameSpec[]; code: number }[] = [
  { name: 'RSV2 on a text frame', frames: [{ opcode: OP.text, payload: 'x', rsv: 2 }], code: 1002 },
  { name: 'reserved opcode 6', frames: [{ opcode: 6, payload: 'x' }], code: 1002 },
  { name: 'orphan continuation', frames: [{ opcode: OP.continuation, payload: 'x' }], code: 1002 },
  { name: 'fragmented ping', frames: [{ opcode: OP.ping, payload: 'x', fin: false }], code: 1002 },
  { name: 'unmasked frame', frames: [{ opcode: OP.binary, payload: 'x', masked: false }], code: 1002 },
  { name: 'invalid UTF-8 in a 2nd fragment', frames: [{ opcode: OP.text, payload: 'ok', fin: false }, { opcode: OP.continuation, payload: Buffer.from('c0af', 'hex') }], code: 1007 },
  { name: 'close code 1006', frames: [{ opcode: OP.close, payload: closePayload(1006) }], code: 1002 },
];

describe('seeded random streams', () => {
  for (let seed = 1; seed <= 12; seed++) {
    it(`seed ${seed}: 25 random messages, random fragments and chunking → exact echoes and pongs`, () =>
      withClient({ port: gateway.port }, async (client) => {
        const rand = prng(seed);
        const pings: Buffer[] = [];
        const messages = Array.from({ length: 25 }, () => randomMessage(rand));
        const bytes = Buffer.concat(messages.flatMap((m) => randomFrames(rand, m, pings)).map(buildFrame));
        await sendInRandomChunks((b) => client.send(b), bytes, rand);
        await expectMessages(client, messages, 10_000);
        await expectPongs(client, pings);
        await expectCleanClose(client);
      }));
  }

  it('seeds 50–69 on 20 connections at once: every connection gets exactly its own echoes', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        withClient({ port: gateway.port }, async (client) => {
          const rand = prng(50 + i);
          const messages = Array.from({ length: 10 }, () => randomMessage(rand));
          await sendInRandomChunks((b) => client.send(b), Buffer.concat(messages.flatMap((m) => randomFrames(rand, m, [])).map(buildFrame)), rand);
          await expectMessages(client, messages, 10_000);
          await expectCleanClose(client);
        }),
      ),
    );
  });

  VIOLATIONS.forEach((violation, i) => {
    const seed = 100 + i;
    it(`seed ${seed}: random valid messages, then ${violation.name} → echoes, then ${violation.code}`, () =>
      withClient({ port: gateway.port }, async (client) => {
        const rand = prng(seed);
        const messages = Array.from({ length: 5 + rand(10) }, () => randomMessage(rand));
        const frames = [...messages.flatMap((m) => randomFrames(rand, m, [])), ...violation.frames, { opcode: OP.text, payload: 'never echoed' }];
        await sendInRandomChunks((b) => client.send(b), Buffer.concat(frames.map(buildFrame)), rand);
        await expectFailure(client, violation.code, { timeoutMs: 10_000 });
        await expectMessages(client, messages);
        expect(client.messages().length).toBe(messages.length);
      }));
  });
});
