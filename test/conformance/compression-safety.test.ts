// permessage-deflate safety and plumbing, on the wire: a deflate bomb closes with 1009 (1004 for
// hybi-08) before its output is kept, RSV1 misuse is 1002, broken compressed data is 1007, events
// keep their order around inflating, handlers and C plugins see plain messages, and a broadcast is
// deflated once. The raw client writes compressed frames itself (node:zlib, RFC 7692 §7.2.1); the
// server's echoes stay uncompressed here (threshold above every echo) so the raw client reads them.
import path from 'node:path';
import { once } from 'node:events';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '../../src/log.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { zlibCounts } from '../../src/server/zlib-work.js';
import type { EndpointSettings } from '../../src/config/model.js';
import { OP } from './frame-builder.js';
import { buildNativeEcho, conformanceConfig, startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

const OFFER: [string, string] = ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'];
const LIMIT = 1024 * 1024;
/** The server deflates nothing it echoes: the raw client reads plain frames. */
const SETTINGS: Partial<EndpointSettings> = { compression: true, compressionThreshold: 1 << 30, maxMessageSize: LIMIT };

/** What a client puts in a compressed frame: raw deflate, sync-flushed, without 00 00 ff ff. */
function deflated(data: Buffer | string): Buffer {
  const out = zlib.deflateRawSync(Buffer.from(data), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** `megabytes` MiB of zeros deflated, made in pieces so the test itself never holds them. */
async function deflateBomb(megabytes: number): Promise<Buffer> {
  const stream = zlib.createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) if (!stream.write(zeros)) await once(stream, 'drain');
  await new Promise<void>((resolve) => stream.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve()));
  stream.close();
  const all = Buffer.concat(out);
  return all.subarray(0, all.length - 4);
}

let gateway: ConformanceGateway;
beforeAll(async () => {
  buildNativeEcho();
  gateway = await startConformanceGateway(SETTINGS, { nativeEcho: true });
}, 90_000);
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>, path = '/echo', offer = true, version: 13 | 8 = 13): Promise<void> =>
  withClient({ port: gateway.port, path, version, headers: offer ? [OFFER] : [] }, body);

describe('deflate bomb', () => {
  it('256 MiB of zeros in a 256 KiB message → 1009 before the output is kept (RSS bounded)', async () => {
    const bomb = await deflateBomb(256);
    expect(bomb.length).toBeLessThan(LIMIT); // the wire size passes: only inflating can catch it
    const before = process.memoryUsage().rss;
    await open(async (client) => {
      client.sendFrame({ opcode: OP.binary, rsv: 4, payload: bomb });
      await expectFailure(client, 1009);
      await expectMessages(client, []);
    });
    const grown = process.memoryUsage().rss - before;
    expect(grown, `RSS grew by ${grown} bytes`).toBeLessThan(64 * 1024 * 1024);
  }, 30_000);

  it('the same bomb in 64 KiB fragments → 1009', async () => {
    const bomb = await deflateBomb(64);
    await open(async (client) => {
      const frames = [];
      for (let at = 0; at < bomb.length; at += 65536) {
        frames.push({ opcode: at === 0 ? OP.binary : OP.continuation, rsv: at === 0 ? 4 : 0, payload: bomb.subarray(at, at + 65536), fin: at + 65536 >= bomb.length });
      }
      client.sendFrames(frames);
      await expectFailure(client, 1009);
    });
  }, 30_000);

  it('hybi-08: a bomb closes with 1004, that draft’s "too big"', async () => {
    const bomb = await deflateBomb(8);
    await open(
      async (client) => {
        client.sendFrame({ opcode: OP.binary, rsv: 4, payload: bomb });
        await expectFailure(client, 1004);
      },
      '/echo',
      true,
      8,
    );
  }, 30_000);

  it('a message that inflates to exactly MaxMessageSize is delivered', () =>
    open(async (client) => {
      const data = Buffer.alloc(LIMIT, 0x61);
      client.sendFrame({ opcode: OP.text, rsv: 4, payload: deflated(data) });
      await expectMessages(client, [text(data)], 10_000);
    }));
});

describe('RSV1 misuse → 1002', () => {
  it('RSV1 on a continuation frame', () =>
    open(async (client) => {
      const payload = deflated('Hello, world!');
      client.sendFrames([
        { opcode: OP.text, rsv: 4, payload: payload.subarray(0, 3), fin: false },
        { opcode: OP.continuation, rsv: 4, payload: payload.subarray(3) },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));

  it('RSV1 on a ping (no pong)', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.ping, rsv: 4, payload: 'x' });
      await expectFailure(client, 1002);
      await expectPongs(client, []);
    }));

  it('RSV2 and RSV3 stay reserved with the extension', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.text, rsv: 2, payload: deflated('x') });
      await expectFailure(client, 1002);
    }));

  it('RSV1 when the client offered nothing', () =>
    open(
      async (client) => {
        client.sendFrames([{ opcode: OP.text, payload: 'plain first' }, { opcode: OP.text, rsv: 4, payload: deflated('x') }]);
        await expectFailure(client, 1002);
        await expectMessages(client, [text('plain first')]);
      },
      '/echo',
      false,
    ));

  it('RSV1 on a Location with WebSocketCompression Off, although the client offered it', async () => {
    const plain = await startConformanceGateway();
    try {
      await withClient({ port: plain.port, headers: [OFFER] }, async (client) => {
        client.sendFrame({ opcode: OP.text, rsv: 4, payload: deflated('x') });
        await expectFailure(client, 1002);
      });
    } finally {
      await plain.close();
    }
  });
});

describe('what inflates to garbage', () => {
  it('invalid UTF-8 in a compressed text message → 1007', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.text, rsv: 4, payload: deflated(Buffer.from([0x48, 0xc3, 0x28])) });
      await expectFailure(client, 1007);
    }));

  it('data that is not deflate (reserved block type) → 1007', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.binary, rsv: 4, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) });
      await expectFailure(client, 1007);
    }));
});

describe('order and plain messages', () => {
  it('compressed, ping, plain, compressed in one write: echoed and answered in order, decompressed', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, rsv: 4, payload: deflated('first, compressed') },
        { opcode: OP.ping, payload: 'between' },
        { opcode: OP.text, payload: 'second, plain' },
        { opcode: OP.binary, rsv: 4, payload: deflated(Buffer.from([1, 2, 3])) },
      ]);
      await expectMessages(client, [text('first, compressed'), text('second, plain'), { opcode: OP.binary, data: Buffer.from([1, 2, 3]) }]);
      await expectPongs(client, [Buffer.from('between')]);
      const order = client.events.map((e) => e.kind);
      expect(order.slice(0, 2)).toEqual(['message', 'pong']);
    }));

  it('the C echo plugin gets and sends plain messages (a ws client with compression gets them back intact)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/native-echo`, { perMessageDeflate: { threshold: 0 } });
    try {
      const message = 'µ-plugin '.repeat(500);
      const echoed = await new Promise<string>((resolve, reject) => {
        ws.once('open', () => ws.send(message));
        ws.once('message', (data: Buffer) => resolve(data.toString()));
        ws.once('error', reject);
      });
      expect(ws.extensions).toBe('permessage-deflate');
      expect(echoed).toBe(message);
    } finally {
      ws.terminate();
    }
  });
});

describe('broadcast', () => {
  const chat = path.resolve(import.meta.dirname, '../../handlers/chat.mjs');

  async function chatGateway(settings: Partial<EndpointSettings>): Promise<{ running: RunningGateway; url: string }> {
    const config = conformanceConfig();
    const base = config.endpoints[0]!;
    config.endpoints = [{ ...base, match: { kind: 'prefix', path: '/chat' }, handler: { ...base.handler, kind: 'js', path: chat, exportName: undefined } as typeof base.handler, settings: { ...base.settings, ...settings } }];
    const running = await startGateway(config, { log: createLogger({ level: 'silent', pretty: false }) });
    return { running, url: `ws://127.0.0.1:${running.addresses[0]!.port}/chat` };
  }

  async function broadcastTo(url: string, receivers: number): Promise<{ deflated: number; received: string[] }> {
    const clients = await Promise.all(
      Array.from({ length: receivers }, () => {
        const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
        return new Promise<WebSocket>((resolve, reject) => {
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        });
      }),
    );
    try {
      const message = JSON.stringify({ board: Array.from({ length: 200 }, (_, i) => ({ i, text: 'cell' })) });
      const arrivals = clients.map((ws) => new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString()))));
      const before = zlibCounts.deflated;
      clients[0]!.send(message);
      const received = await Promise.all(arrivals);
      expect(received.every((r) => r === message)).toBe(true);
      return { deflated: zlibCounts.deflated - before, received };
    } finally {
      for (const ws of clients) ws.terminate();
    }
  }

  it('without context takeover (the default) a broadcast to 5 connections is deflated once', async () => {
    const { running, url } = await chatGateway({ compression: true });
    try {
      expect((await broadcastTo(url, 5)).deflated).toBe(1);
    } finally {
      await running.close();
    }
  });

  it('with context takeover each connection deflates its own copy', async () => {
    const { running, url } = await chatGateway({ compression: true, compressionContextTakeover: true });
    try {
      expect((await broadcastTo(url, 5)).deflated).toBe(5);
    } finally {
      await running.close();
    }
  });
});
