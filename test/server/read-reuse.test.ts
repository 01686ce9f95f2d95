// A handler that releases its messages (Handler.releasedMessages) gets the next read's messages in
// the same memory once the replies have left; whatever still refers to a read (replies waiting for
// a slow reader, a frame or message cut by the read's end, a C plugin's replies the pump has not
// handed over) keeps it from being reused. Real sockets; every echo is compared byte for byte.
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { examplePlugin, nativeSpec, buildNative } from '../native/helpers.js';
import { mulberry32 } from '../protocol/prng.js';
import { endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';
import { clientFrame, hybiRequest } from './helpers.js';

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

/** A raw client on `path` past its 101 (nothing else has arrived: the gateway speaks only when spoken to). */
function handshaken(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(gw.addresses[0]!.port, '127.0.0.1', () => socket.write(hybiRequest(path)));
    socket.once('error', reject);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      if (!head.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error(head.toString('latin1')));
      else resolve(socket);
    };
    socket.on('data', onData);
  });
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

  for (const path of ['/releasing', '/c']) {
    test(`${path}: replies waiting for a reader that stopped keep their read's memory, though each read held whole frames only`, { timeout: 30_000 }, async () => {
      // Whole frames per read: nothing else (no frame cut by a read's end) keeps a read's memory,
      // only the replies the socket could not take. 2,000-byte echoes are views of the read (JS
      // and C frame only those up to 1 KiB anew).
      const socket = await handshaken(path);
      const random = mulberry32(path.length);
      const expected: Buffer[] = [];
      socket.pause();
      // 400 writes of 30 frames (60 KB, one loopback segment each): ~24 MB, more than the
      // socket buffers between the gateway and this paused reader hold.
      for (let burst = 0; burst < 400; burst++) {
        const frames: Buffer[] = [];
        for (let i = 0; i < 30; i++) {
          const data = payload(random, expected.length, 1);
          const message = Buffer.concat([data, Buffer.alloc(1999, expected.length & 255)]);
          frames.push(clientFrame(0x2, message));
          expected.push(Buffer.concat([Buffer.from([0x82, 126, message.length >> 8, message.length & 255]), message]));
        }
        socket.write(Buffer.concat(frames));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const wanted = Buffer.concat(expected);
      const chunks: Buffer[] = [];
      let got = 0;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${got} of ${wanted.length} bytes echoed`)), 20_000);
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          got += chunk.length;
          if (got < wanted.length) return;
          clearTimeout(timer);
          resolve();
        });
        socket.resume();
      });
      const received = Buffer.concat(chunks);
      expect(received.length).toBe(wanted.length);
      // The first byte that differs (-1: none).
      expect(received.findIndex((byte, i) => byte !== wanted[i])).toBe(-1);
      socket.destroy();
    });
  }

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
