// Replies a C plugin sends inside on_message reach the socket as frames the helper encoded
// (RecordType.Frames): one write for a call's replies instead of one send() each. Real sockets and
// compiled plugins; a spy on WsConnection.sendFrames shows which path the replies took.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { WsConnection } from '../../src/server/connection.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, gatewayConfig, testLog } from '../server/config-fixture.js';
import { openHixie } from '../conformance/hixie-client.js';
import { buildNative, compileFixture, connect, examplePlugin, nativeSpec, until } from './helpers.js';

let gateway: RunningGateway;
let url: string;
let port: number;

/** sendFrames calls since the last test: the connection and how many frames each carried. */
const framed: Array<{ conn: WsConnection; count: number; bytes: number }> = [];
const original = WsConnection.prototype.sendFrames;

beforeAll(async () => {
  buildNative();
  const probe = compileFixture('probe');
  const echo = examplePlugin('echo');
  gateway = await startGateway(
    gatewayConfig([
      endpoint('/probe', { handler: nativeSpec(probe, 'probe_init', 10), settings: { sendQueueLimit: 64 * 1024 * 1024 } }),
      endpoint('/echo', { handler: nativeSpec(echo, 'echo_init', 11) }),
      endpoint('/deflate', { handler: nativeSpec(echo, 'echo_init', 12), settings: { compression: true, compressionThreshold: 0 } }),
    ]),
    { log: testLog },
  );
  port = gateway.addresses[0]!.port;
  url = `ws://127.0.0.1:${port}`;
  WsConnection.prototype.sendFrames = function (this: WsConnection, frames: Buffer, count: number): boolean {
    framed.push({ conn: this, count, bytes: frames.length });
    return original.call(this, frames, count);
  };
});

afterEach(() => {
  framed.length = 0;
});

afterAll(async () => {
  WsConnection.prototype.sendFrames = original;
  await gateway?.close();
});

/** A binary message the probe answers with the same bytes from its own memory. */
function own(size: number): Buffer {
  const data = Buffer.alloc(size, 0x5a);
  data.write('own:', 0, 'latin1');
  for (let i = 4; i < size; i++) data[i] = (i * 31) & 255;
  return data;
}

describe('framed by the helper', () => {
  test('every length a frame header encodes differently arrives intact and in order, between pings and text', async () => {
    const c = await connect(`${url}/probe`);
    const pings: Buffer[] = [];
    c.ws.on('ping', (data: Buffer) => pings.push(data));
    // 2-byte headers up to 125, 4-byte from 126 to 65,535, 10-byte from 65,536 (the last two
    // framed only when the helper's buffer has room: a 64 KiB message's call has exactly that).
    const sizes = [4, 5, 125, 126, 127, 1023, 1024, 1025, 16_384, 65_535, 65_536, 70_000];
    const expected: Array<{ data: Buffer; isBinary: boolean }> = [];
    for (const size of sizes) {
      c.ws.send(own(size));
      expected.push({ data: own(size), isBinary: true });
      c.ws.send(`ping:${size}`);
      c.ws.send('text ✓');
      expected.push({ data: Buffer.from('text ✓'), isBinary: false });
    }
    await until(() => c.messages.length === expected.length && pings.length === sizes.length, 5000, 'all replies');
    expect(c.messages).toEqual(expected);
    expect(pings.map(String)).toEqual(sizes.map(String));
    // The 64 KiB message went in a call of its own, whose buffer had room for its reply with a
    // 10-byte header; the replies of a batch get up to half a slab (more waited in the queue).
    expect(framed.filter((f) => f.bytes === 10 + 65_536).length).toBe(1);
    expect(framed.reduce((sum, f) => sum + f.count, 0)).toBeGreaterThan(sizes.length);
    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
  });

  test("a burst's replies share writes, and the connection counts each as a message", async () => {
    const c = await connect(`${url}/probe`);
    c.ws.send('burst:2000');
    await until(() => c.messages.length === 2000, 5000, 'burst');
    expect(c.texts()).toEqual(Array.from({ length: 2000 }, (_, i) => `b${i}`));
    const frames = framed.reduce((sum, f) => sum + f.count, 0);
    // What did not fit the helper's buffer went through its queue, one record each.
    expect(frames).toBeGreaterThan(500);
    expect(framed.length).toBeLessThan(frames / 100);
    expect(framed[0]!.conn.counters.messagesOut).toBe(2000);
    c.ws.close(1000);
    await c.closed;
  });

  test('echoes of 64 bytes to 1 KiB are framed, larger ones go as views of the read', async () => {
    const c = await connect(`${url}/echo`);
    const small = Buffer.alloc(1024, 1);
    const large = Buffer.alloc(1025, 2);
    c.ws.send(small);
    await until(() => c.messages.length === 1, 5000, 'small echo');
    expect(framed.map((f) => f.count)).toEqual([1]);
    c.ws.send(large);
    await until(() => c.messages.length === 2, 5000, 'large echo');
    expect(framed.length).toBe(1);
    expect(c.messages.map((m) => m.data)).toEqual([small, large]);
    c.ws.close(1000);
    await c.closed;
  });
});

describe('not framed where frames carry more than RFC 6455', () => {
  test('a permessage-deflate connection gets compressed replies through send()', async () => {
    const c = await connect(`${url}/deflate`);
    expect(c.ws.extensions).toContain('permessage-deflate');
    const texts = Array.from({ length: 50 }, (_, i) => `message ${i} `.repeat(i + 1));
    for (const text of texts) c.ws.send(text);
    await until(() => c.messages.length === texts.length, 5000, 'compressed echoes');
    expect(c.texts()).toEqual(texts);
    expect(framed).toEqual([]);
    c.ws.close(1000);
    await c.closed;
  });

  test('a hixie-76 connection gets its own framing', async () => {
    const client = await openHixie(port, '/echo', { key1: '4 @1  46546xW%0l 1 5', key2: '12998 5 Y3 1  .P00', key3: Buffer.from('^n:ds[4U', 'latin1') });
    expect(client.head.status).toBe(101);
    for (let i = 0; i < 20; i++) client.sendText(`hixie ${i}`);
    const expected = Array.from({ length: 20 }, (_, i) => `hixie ${i}`);
    expect(await client.waitFor(() => client.texts(16).length === 20, 5000)).toBe(true);
    expect(client.texts(16)).toEqual(expected);
    expect(framed).toEqual([]);
    client.destroy();
  });
});
