// A handler that releases its messages (Handler.releasedMessages) gets the next read's messages in
// the same memory once the replies have left; whatever still refers to a read (replies waiting for
// a slow reader, a frame or message cut by the read's end, a C plugin's replies the pump has not
// handed over) keeps it from being reused. Real sockets; every echo is compared byte for byte.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { examplePlugin, nativeSpec, buildNative } from '../native/helpers.js';
import { mulberry32 } from '../protocol/prng.js';
import { endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';

let gw: RunningGateway;
let base: string;
type Noted = { __wsgateReadMemory?: Set<ArrayBufferLike>; __wsgateReadViews?: Set<ArrayBufferLike> };
const seen = (): Set<ArrayBufferLike> => ((globalThis as Noted).__wsgateReadMemory ??= new Set());
/** The memory of messages that lie in a read's buffer (not joined from several reads). */
const readViews = (): Set<ArrayBufferLike> => ((globalThis as Noted).__wsgateReadViews ??= new Set());

/** Room for what a reader that pauses is owed (the default would close it with 1008). */
const settings = { sendQueueLimit: 256 * 1024 * 1024 };

beforeAll(async () => {
  buildNative();
  gw = await startGateway(
    gatewayConfig([
      endpoint('/releasing', { handler: fixture('read-memory.mjs', 'releasing'), settings }),
      endpoint('/keeping', { handler: fixture('read-memory.mjs', 'keeping'), settings }),
      endpoint('/c', { handler: nativeSpec(examplePlugin('echo'), 'echo_init'), settings }),
    ]),
    { log: testLog },
  );
  base = `ws://127.0.0.1:${gw.addresses[0]!.port}`;
});

afterAll(async () => {
  await gw?.close();
});

beforeEach(() => {
  seen().clear();
  readViews().clear();
});

function open(path: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}${path}`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket): Promise<Buffer> {
  return new Promise((resolve) => ws.once('message', (data: Buffer) => resolve(data)));
}

/** Message i of a run: its length from the seeded generator, its bytes from i. */
function payload(random: () => number, i: number, maxLength: number): Buffer {
  const length = 1 + Math.floor(random() * random() * maxLength);
  const data = Buffer.allocUnsafe(length);
  for (let k = 0; k < length; k++) data[k] = (i * 131 + k * 7) & 255;
  return data;
}

describe('the memory a read is kept in', () => {
  test('serves read after read for a handler that releases its messages, and not for one that keeps them', async () => {
    for (const [path, reused] of [
      ['/releasing', true],
      ['/keeping', false],
    ] as const) {
      seen().clear();
      const ws = await open(path);
      for (let i = 0; i < 50; i++) {
        const data = Buffer.alloc(16 * 1024, i);
        const echo = nextMessage(ws);
        ws.send(data);
        expect((await echo).equals(data)).toBe(true);
      }
      if (reused) expect(seen().size).toBeLessThanOrEqual(2);
      else expect(seen().size).toBe(50);
      ws.close();
    }
  });

  test('a message that spans reads keeps the memory of its first reads from serving the next', async () => {
    for (const path of ['/releasing', '/c']) {
      const ws = await open(path);
      const random = mulberry32(17);
      for (let i = 0; i < 6; i++) {
        // 256 KiB reads: the reads in the middle of these bring no whole message, so nothing is
        // sent while the decoder holds the message's first pieces.
        const data = payload(random, i, 1);
        const big = Buffer.concat([data, Buffer.alloc(700_000 + i * 300_000, i + 1)]);
        const echo = nextMessage(ws);
        ws.send(big);
        expect((await echo).equals(big)).toBe(true);
      }
      ws.close();
    }
  });

  for (const [path, what] of [
    ['/releasing', 'a JS handler that releases its messages'],
    ['/c', 'a C plugin'],
  ] as const) {
    test(`${what}: echoes stay intact while a slow reader leaves replies waiting and frames span reads`, { timeout: 30_000 }, async () => {
      const ws = await open(path);
      const random = mulberry32(path.length * 7919);
      const sent: Buffer[] = [];
      const got: Buffer[] = [];
      ws.on('message', (data: Buffer) => got.push(data));
      // The client stops reading: the gateway's socket fills and its replies wait (in the kernel,
      // the socket's stream, the send queue) while later reads arrive.
      const socket = (ws as unknown as { _socket: import('node:net').Socket })._socket;
      // ~25 MB a round: more than loopback's socket buffers take. A message of 600 KB in each round
      // spans reads (256 KiB each): its pieces wait in the decoder while the next reads arrive.
      for (let round = 0; round < 4; round++) {
        socket.pause();
        for (let i = 0; i < 1000; i++) {
          const data = payload(random, sent.length, i === 500 ? 600_000 * 4 : 100_000);
          sent.push(data);
          ws.send(data, { binary: true });
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
        socket.resume();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const deadline = Date.now() + 20_000;
      while (got.length < sent.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(got.length).toBe(sent.length);
      const wrong = sent.findIndex((data, i) => !data.equals(got[i]!));
      expect(wrong).toBe(-1);
      // Reads after one that could not be given back got memory of their own size, not a spare
      // (whose sizes are powers of two).
      if (path === '/releasing') expect([...readViews()].some((b) => (b.byteLength & (b.byteLength - 1)) !== 0)).toBe(true);
      ws.close();
    });
  }
});
