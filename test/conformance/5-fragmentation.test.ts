// Autobahn section 5: fragmented messages are reassembled; control frames may be interleaved;
// control frames must not be fragmented; continuation without a start, or a new data frame inside a
// fragmented message, fails the connection with 1002.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildFrame, fragment, OP, pieces, type FrameSpec } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { binary, expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

type Delivery = 'one write' | 'octet by octet' | 'frame by frame';

async function deliver(client: RawClient, frames: FrameSpec[], how: Delivery): Promise<void> {
  if (how === 'one write') client.sendFrames(frames);
  else if (how === 'frame by frame') await client.sendFramewise(frames);
  else await client.sendChunked(Buffer.concat(frames.map(buildFrame)), 1);
}

const twoFragments: FrameSpec[] = [
  { opcode: OP.text, payload: 'fragment1', fin: false },
  { opcode: OP.continuation, payload: 'fragment2' },
];
const withPing: FrameSpec[] = [
  { opcode: OP.text, payload: 'fragment1', fin: false },
  { opcode: OP.ping, payload: 'ping payload' },
  { opcode: OP.continuation, payload: 'fragment2' },
];

describe('5 fragmentation', () => {
  it('5.1 ping in two fragments → 1002, no pong', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.ping, payload: 'fragment1', fin: false },
        { opcode: OP.continuation, payload: 'fragment2' },
      ]);
      await expectFailure(client, 1002);
      await expectPongs(client, []);
    }));

  it('5.2 pong in two fragments → 1002', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.pong, payload: 'fragment1', fin: false },
        { opcode: OP.continuation, payload: 'fragment2' },
      ]);
      await expectFailure(client, 1002);
    }));

  (['one write', 'octet by octet', 'frame by frame'] as const).forEach((how, i) => {
    it(`5.${3 + i} text in two fragments, ${how} → one echo`, () =>
      open(async (client) => {
        await deliver(client, twoFragments, how);
        await expectMessages(client, [text('fragment1fragment2')]);
        await expectCleanClose(client);
      }));
  });

  (['one write', 'octet by octet', 'frame by frame'] as const).forEach((how, i) => {
    it(`5.${6 + i} text in two fragments with a ping between, ${how} → pong, then echo`, () =>
      open(async (client) => {
        await deliver(client, withPing, how);
        await expectPongs(client, [Buffer.from('ping payload')]);
        await expectMessages(client, [text('fragment1fragment2')]);
        await expectCleanClose(client);
      }));
  });

  const orphanFin: FrameSpec[] = [
    { opcode: OP.continuation, payload: 'non-continuation payload' },
    { opcode: OP.text, payload: 'Hello, world!' },
  ];
  const orphanNoFin: FrameSpec[] = [
    { opcode: OP.continuation, payload: 'non-continuation payload', fin: false },
    { opcode: OP.text, payload: 'Hello, world!' },
  ];
  (['one write', 'octet by octet', 'frame by frame'] as const).forEach((how, i) => {
    it(`5.${9 + i} continuation (FIN) with nothing to continue, ${how} → 1002, no echo`, () =>
      open(async (client) => {
        await deliver(client, orphanFin, how);
        await expectFailure(client, 1002);
        await expectMessages(client, []);
      }));
    it(`5.${12 + i} continuation (no FIN) with nothing to continue, ${how} → 1002, no echo`, () =>
      open(async (client) => {
        await deliver(client, orphanNoFin, how);
        await expectFailure(client, 1002);
        await expectMessages(client, []);
      }));
  });

  it('5.15 complete fragmented message, then an orphan continuation → echo, then 1002', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: 'fragment1', fin: false },
        { opcode: OP.continuation, payload: 'fragment2' },
        { opcode: OP.continuation, payload: 'fragment3', fin: false },
        { opcode: OP.text, payload: 'fragment4' },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, [text('fragment1fragment2')]);
    }));

  [false, true].forEach((firstFin, i) => {
    it(`5.${16 + i} twice: continuation (FIN=${firstFin}), text start, continuation end → 1002, no echo`, () =>
      open(async (client) => {
        const round: FrameSpec[] = [
          { opcode: OP.continuation, payload: 'fragment1', fin: firstFin },
          { opcode: OP.text, payload: 'fragment2', fin: false },
          { opcode: OP.continuation, payload: 'fragment3' },
        ];
        client.sendFrames([...round, ...round]);
        await expectFailure(client, 1002);
        await expectMessages(client, []);
      }));
  });

  it('5.18 a new text frame inside a fragmented text message → 1002, no echo', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: 'fragment1', fin: false },
        { opcode: OP.text, payload: 'fragment2' },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));

  it('5.x a new binary frame inside a fragmented binary message → 1002', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.binary, payload: Buffer.from([1]), fin: false },
        { opcode: OP.binary, payload: Buffer.from([2]), fin: false },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));

  const fiveWithPings: FrameSpec[] = [
    { opcode: OP.text, payload: 'fragment1', fin: false },
    { opcode: OP.continuation, payload: 'fragment2', fin: false },
    { opcode: OP.ping, payload: 'pongme 1!' },
    { opcode: OP.continuation, payload: 'fragment3', fin: false },
    { opcode: OP.continuation, payload: 'fragment4', fin: false },
    { opcode: OP.ping, payload: 'pongme 2!' },
    { opcode: OP.continuation, payload: 'fragment5' },
  ];
  it('5.19 five fragments with two pings between, with pauses → pongs while fragmented, then echo', () =>
    open(async (client) => {
      for (const [i, frame] of fiveWithPings.entries()) {
        client.sendFrame(frame);
        // Pongs are due before the message completes (Autobahn checks them mid-message).
        if (i === 2) await expectPongs(client, [Buffer.from('pongme 1!')]);
      }
      await expectPongs(client, [Buffer.from('pongme 1!'), Buffer.from('pongme 2!')]);
      await expectMessages(client, [text('fragment1fragment2fragment3fragment4fragment5')]);
      await expectCleanClose(client);
    }));

  it('5.20 the same, octet by octet', () =>
    open(async (client) => {
      await deliver(client, fiveWithPings, 'octet by octet');
      await expectPongs(client, [Buffer.from('pongme 1!'), Buffer.from('pongme 2!')]);
      await expectMessages(client, [text('fragment1fragment2fragment3fragment4fragment5')]);
      await expectCleanClose(client);
    }));

  it('5.x binary in 1-byte fragments → one echo', () =>
    open(async (client) => {
      const payload = randomBytes(300);
      client.sendFrames(fragment(OP.binary, payload, pieces(payload.length, 1)));
      await expectMessages(client, [binary(payload)]);
      await expectCleanClose(client);
    }));

  it('5.x binary 200 KiB in 16 KiB fragments with pings between every fragment', () =>
    open(async (client) => {
      const payload = randomBytes(200 * 1024);
      const frames = fragment(OP.binary, payload, pieces(payload.length, 16 * 1024));
      const interleaved = frames.flatMap((frame, i) => (frame.fin ? [frame] : [frame, { opcode: OP.ping, payload: `p${i}` }]));
      client.sendFrames(interleaved);
      await expectPongs(client, frames.slice(0, -1).map((_, i) => Buffer.from(`p${i}`)));
      await expectMessages(client, [binary(payload)]);
      await expectCleanClose(client);
    }));

  it('5.x empty fragments: empty start, payload in the middle, empty end', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.binary, payload: Buffer.alloc(0), fin: false },
        { opcode: OP.continuation, payload: Buffer.from([9, 8, 7]), fin: false },
        { opcode: OP.continuation, payload: Buffer.alloc(0) },
      ]);
      await expectMessages(client, [binary(Buffer.from([9, 8, 7]))]);
      await expectCleanClose(client);
    }));

  it('5.x two fragmented messages back to back, text then binary', () =>
    open(async (client) => {
      const second = randomBytes(1000);
      client.sendFrames([...twoFragments, ...fragment(OP.binary, second, [1, 499, 500])]);
      await expectMessages(client, [text('fragment1fragment2'), binary(second)]);
      await expectCleanClose(client);
    }));
});
