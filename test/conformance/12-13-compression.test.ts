// Autobahn sections 12 and 13: permessage-deflate echo, against the shipped echo handler with
// `WebSocketCompression On`. The client is `ws` (an independent permessage-deflate implementation
// that rejects a response its offer does not allow). Each case is Autobahn's: messages of one size
// (16 B … 128 KiB), cut from a test data set, sent one at a time and echoed; auto-fragmented ones
// go as fragments of the given size. Autobahn's expectation for every case is "OK": each echo has
// the type, length and SHA-1 of what was sent. Autobahn sends 1000 messages per case; here
// MESSAGES_PER_CASE (same sizes, same data paths), to fit a unit-test run on a shared machine.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { type PerMessageDeflateOptions } from 'ws';
import type { EndpointSettings } from '../../src/config/model.js';
import { header } from './http-wire.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { openWebSocket } from './raw-client.js';

/** [payload size, auto-fragment size (0 = none)] as Autobahn's MSG_SIZES. */
const SIZES: Array<[number, number]> = [
  [16, 0], [64, 0], [256, 0], [1024, 0], [4096, 0], [8192, 0], [16384, 0], [32768, 0], [65536, 0], [131072, 0],
  [8192, 256], [16384, 256], [32768, 256], [65536, 256], [131072, 256], [131072, 1024], [131072, 4096], [131072, 32768],
];
const MESSAGES_PER_CASE = 4;
const CASE_TIMEOUT_MS = 20_000;

/** Deterministic data sets of 192 KiB, standing in for Autobahn's files (which are not shipped). */
function dataSet(kind: 'json' | 'html' | 'text' | 'bitmap' | 'pdf'): Buffer {
  const size = 192 * 1024;
  let seed = 0x2545f491;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x1_0000_0000;
  };
  const words = ['Habe', 'nun', 'ach', 'Philosophie', 'Juristerei', 'und', 'Medizin', 'leider', 'auch', 'Theologie', 'durchaus', 'studiert', 'mit', 'heißem', 'Bemühn', 'Da', 'steh', 'ich', 'armer', 'Tor', 'bin', 'so', 'klug', 'als', 'wie', 'zuvor'];
  const parts: string[] = [];
  let length = 0;
  const add = (s: string): void => {
    parts.push(s);
    length += Buffer.byteLength(s);
  };
  switch (kind) {
    case 'json':
      add('[');
      for (let i = 0; length < size; i++) add(`{"id":${i},"name":"user${Math.floor(random() * 5000)}","active":${random() < 0.5},"score":${(random() * 100).toFixed(3)},"tags":["a","b${i % 7}"]},`);
      break;
    case 'html':
      for (let i = 0; length < size; i++) add(`<tr class="row${i % 3}"><td>${i}</td><td><a href="/item/${Math.floor(random() * 9000)}">item ${i}</a></td></tr>\n`);
      break;
    case 'text':
      while (length < size) add(`${words[Math.floor(random() * words.length)]} `);
      break;
    case 'bitmap': {
      const out = Buffer.alloc(size);
      for (let i = 0; i < size; i++) out[i] = ((i % 512) + Math.floor(i / 512) + Math.floor(random() * 16)) & 0xff;
      return out;
    }
    case 'pdf': {
      const out = Buffer.alloc(size);
      for (let i = 0; i < size; i++) out[i] = i % 4096 < 512 ? 0x20 + (i % 64) : Math.floor(random() * 256);
      return out;
    }
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

interface EchoCase {
  url: string;
  options: PerMessageDeflateOptions;
  data: Buffer;
  isBinary: boolean;
  size: number;
  fragment: number;
}

function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** Sends MESSAGES_PER_CASE messages one at a time (the next after the previous echo), as Autobahn's
 *  sendOne/onMessage; resolves with the server's Sec-WebSocket-Extensions answer. */
async function runEchoCase(c: EchoCase): Promise<string> {
  const ws = new WebSocket(c.url, { perMessageDeflate: { ...c.options, threshold: 0 }, maxPayload: 0 });
  let agreed = '';
  ws.once('upgrade', (response) => {
    agreed = String(response.headers['sec-websocket-extensions'] ?? '');
  });
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let at = 0;
    const next = (): Buffer => {
      const slice = Buffer.alloc(c.size);
      for (let i = 0; i < c.size; i++) slice[i] = c.data[(at + i) % c.data.length]!;
      at = (at + c.size) % c.data.length;
      return slice;
    };
    const send = (message: Buffer): void => {
      if (c.fragment === 0) {
        ws.send(message, { binary: c.isBinary, compress: true });
        return;
      }
      for (let offset = 0; offset < message.length; offset += c.fragment) {
        const fin = offset + c.fragment >= message.length;
        ws.send(message.subarray(offset, offset + c.fragment), { binary: c.isBinary, compress: true, fin });
      }
    };
    await new Promise<void>((resolve, reject) => {
      let sent = next();
      let left = MESSAGES_PER_CASE;
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        try {
          expect({ isBinary, length: data.length, sha1: sha1(data) }).toEqual({ isBinary: c.isBinary, length: sent.length, sha1: sha1(sent) });
        } catch (err) {
          reject(err as Error);
          return;
        }
        if (--left === 0) {
          resolve();
          return;
        }
        sent = next();
        send(sent);
      });
      ws.once('close', (code) => reject(new Error(`server closed with ${code}`)));
      ws.once('error', reject);
      send(sent);
    });
    ws.close(1000);
    await new Promise((resolve) => ws.once('close', resolve));
    return agreed;
  } finally {
    ws.terminate();
  }
}

/** The server policies every case runs against: the default answer, and context takeover with a small window. */
const POLICIES: Array<[string, Partial<EndpointSettings>]> = [
  ['default answer (no context takeover, window 15)', { compression: true, compressionThreshold: 0 }],
  ['WebSocketCompressionContextTakeover On, WindowBits 10', { compression: true, compressionThreshold: 0, compressionContextTakeover: true, compressionWindowBits: 10 }],
];

describe.each(POLICIES)('server: %s', (_policy, settings) => {
  let gateway: ConformanceGateway;
  let url: string;
  beforeAll(async () => {
    gateway = await startConformanceGateway(settings);
    url = `ws://127.0.0.1:${gateway.port}/echo`;
  });
  afterAll(() => gateway?.close());

  // Section 12: different payloads, the default offer (ws: client_max_window_bits).
  const sets: Array<[string, 'json' | 'html' | 'text' | 'bitmap' | 'pdf', boolean]> = [
    ['12.1 large JSON data (utf8)', 'json', false],
    ['12.2 bitmap picture (binary)', 'bitmap', true],
    ['12.3 human readable text, German (binary)', 'text', true],
    ['12.4 large HTML (utf8)', 'html', false],
    ['12.5 a larger PDF-like, mostly incompressible (binary)', 'pdf', true],
  ];
  describe.each(sets)('%s', (name, kind, isBinary) => {
    const data = dataSet(kind);
    const section = name.split(' ')[0];
    it.each(SIZES.map(([size, fragment], i) => [`${section}.${i + 1}`, size, fragment] as const))(
      '%s: %i-byte messages, auto-fragment %i → echoed exactly',
      async (_case, size, fragment) => {
        const agreed = await runEchoCase({ url, options: {}, data, isBinary, size, fragment });
        expect(agreed).toMatch(/^permessage-deflate/);
      },
      CASE_TIMEOUT_MS,
    );
  });

  // Section 13: the JSON set with each offer Autobahn's client makes (ws options → the same offer):
  // accept* (client_no_context_takeover, client_max_window_bits) and request* (server_*).
  const offers: Array<[string, PerMessageDeflateOptions]> = [
    ['13.1 (False, 0)', { clientNoContextTakeover: true }],
    ['13.2 (True, 0)', { clientNoContextTakeover: true, serverNoContextTakeover: true }],
    ['13.3 (False, 8)', { clientNoContextTakeover: true, serverMaxWindowBits: 8 }],
    ['13.4 (False, 15)', { clientNoContextTakeover: true, serverMaxWindowBits: 15 }],
    ['13.5 (True, 8)', { clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 8 }],
    ['13.6 (True, 15)', { clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 15 }],
    // 13.7 offers [(True, 8), (True, 0), (False, 0)]: the first is accepted (checked on the wire below), so the echo runs with it.
    ['13.7 [(True, 8), (True, 0), (False, 0)]', { clientNoContextTakeover: true, serverNoContextTakeover: true, serverMaxWindowBits: 8 }],
  ];
  const json = dataSet('json');
  describe.each(offers)('%s', (name, options) => {
    const section = name.split(' ')[0];
    it.each(SIZES.map(([size, fragment], i) => [`${section}.${i + 1}`, size, fragment] as const))(
      '%s: %i-byte messages, auto-fragment %i → echoed exactly',
      async (_case, size, fragment) => {
        const agreed = await runEchoCase({ url, options, data: json, isBinary: false, size, fragment });
        expect(agreed).toMatch(/^permessage-deflate/);
        if (options.serverNoContextTakeover === true) expect(agreed).toContain('server_no_context_takeover');
        if (options.serverMaxWindowBits === 8) expect(agreed).toContain('server_max_window_bits=8');
      },
      CASE_TIMEOUT_MS,
    );
  });

  it('13.7 on the wire: three offers in one header, the first acceptable one is answered', async () => {
    const offer =
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=8, ' +
      'permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover, ' +
      'permessage-deflate; client_no_context_takeover; client_max_window_bits';
    const client = await openWebSocket({ port: gateway.port, headers: [['Sec-WebSocket-Extensions', offer]] });
    client.destroy();
    const answer = header(client.head, 'sec-websocket-extensions') ?? '';
    expect(answer).toMatch(/^permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8/);
  });
});

describe('negotiation around the echo', () => {
  let gateway: ConformanceGateway;
  beforeAll(async () => {
    gateway = await startConformanceGateway({ compression: true, compressionThreshold: 0 });
  });
  afterAll(() => gateway?.close());

  it('hybi-08 gets permessage-deflate too (the extension mechanism exists since hybi-04)', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${gateway.port}/echo`, { protocolVersion: 8, perMessageDeflate: { threshold: 0 } });
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      ws.once('open', () => ws.send('x'.repeat(5000)));
      ws.once('message', (data: Buffer) => resolve(data));
      ws.once('error', reject);
    });
    expect(ws.extensions).toMatch(/^permessage-deflate/);
    expect(echoed.toString()).toBe('x'.repeat(5000));
    ws.terminate();
  });

  it('a client that offers nothing gets no Sec-WebSocket-Extensions and plain frames', async () => {
    const client = await openWebSocket({ port: gateway.port });
    expect(header(client.head, 'sec-websocket-extensions')).toBeUndefined();
    client.destroy();
  });

  it('with WebSocketCompression Off (the default) an offer is not answered', async () => {
    const plain = await startConformanceGateway();
    try {
      const client = await openWebSocket({ port: plain.port, headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']] });
      expect(header(client.head, 'sec-websocket-extensions')).toBeUndefined();
      client.destroy();
    } finally {
      await plain.close();
    }
  });
});
