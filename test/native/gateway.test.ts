// Native plugins over real sockets: the gateway, the ws client, compiled C plugins.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningGateway } from '../../src/server/gateway.js';
import { nativeLibrary, toNumber, type NativeLibrary } from '../../src/plugins/native/ffi.js';
import { buildNative, compileFixture, connect, examplePlugin, handshake, settledLiveConnections, startNative, until } from './helpers.js';

let gateway: RunningGateway;
let url: string;

beforeAll(async () => {
  buildNative();
  const probe = compileFixture('probe');
  const chat = compileFixture('chat');
  ({ gateway, url } = await startNative([
    { location: '/chat', path: chat, init: 'chat_init' },
    { location: '/echo', path: examplePlugin('echo'), init: 'echo_init' },
    { location: '/increment', path: examplePlugin('dumb_increment'), init: 'dumb_increment_init' },
    { location: '/probe', path: probe, init: 'probe_init' },
  ]));
});

afterAll(async () => {
  await gateway?.close();
});

describe('echo.c', () => {
  test('echoes text, binary and empty messages in order', async () => {
    const c = await connect(`${url}/echo`);
    const sent: Array<{ data: Buffer; isBinary: boolean }> = [];
    for (let i = 0; i < 200; i++) {
      const isBinary = i % 3 === 0;
      const data = i % 50 === 7 ? Buffer.alloc(0) : Buffer.from(isBinary ? [i & 255, 0, 255] : `message ${i} ✓`);
      sent.push({ data, isBinary });
      c.ws.send(data, { binary: isBinary });
    }
    await until(() => c.messages.length === sent.length, 5000, 'all echoes');
    expect(c.messages).toEqual(sent);
    c.ws.close(1000);
    expect((await c.closed).code).toBe(1000);
  });

  test('a 1 MiB message comes back intact', async () => {
    const c = await connect(`${url}/echo`);
    const data = Buffer.alloc(1024 * 1024, 7);
    data.write('start', 0);
    c.ws.send(data);
    await until(() => c.messages.length === 1, 5000, 'echo');
    expect(c.messages[0]!.data.equals(data)).toBe(true);
    c.ws.close();
    await c.closed;
  });
});

describe('probe.c (every server function)', () => {
  test('headers set in on_connect appear on the 101', async () => {
    const answer = await handshake(`${url}/probe`, [], { 'X-Choose': '' });
    expect(answer.status).toBe(101);
    expect(answer.headers['x-plugin']).toBe('probe');
    expect(answer.headers['x-seen-host']).toBe(new URL(url).host);
    expect(answer.headers['x-request']).toBe('pool');
    answer.ws.terminate();
  });

  test('a declined connection gets 403 and none of the headers the plugin set', async () => {
    const answer = await handshake(`${url}/probe`, [], { 'X-Decline': 'yes' });
    expect(answer.status).toBe(403);
    expect(answer.headers['x-dropped']).toBeUndefined();
  });

  test('the protocol the plugin chose is answered; none when it chose none', async () => {
    const chosen = await connect(`${url}/probe`, ['superchat', 'chat'], { 'X-Choose': 'chat' });
    expect(chosen.ws.protocol).toBe('chat');
    chosen.ws.close();
    const none = await handshake(`${url}/probe`, ['superchat', 'chat']);
    expect(none.status).toBe(101);
    expect(none.headers['sec-websocket-protocol']).toBeUndefined();
    expect(none.headers['x-protocols']).toBe('2;superchat;chat');
    none.ws.terminate();
  });

  test('a protocol the client did not offer is refused with 500, and the C connection is still freed', async () => {
    const lib = nativeLibrary() as NativeLibrary;
    const before = await settledLiveConnections(lib.liveConnections);
    const answer = await handshake(`${url}/probe`, ['chat'], { 'X-Choose': 'superchat' });
    expect(answer.status).toBe(500);
    await until(() => toNumber(lib.liveConnections()) === before, 3000, 'the refused connection freed after on_disconnect');
  });

  test('close() reaches the client as 1005 after the messages sent before it', async () => {
    const c = await connect(`${url}/probe`);
    c.ws.send('hello');
    c.ws.send('close');
    const closed = await c.closed;
    expect(closed.code).toBe(1005);
    expect(c.texts()).toEqual(['hello', 'bye']);
  });

  test('PING from the plugin reaches the client (and its pong is accepted)', async () => {
    const c = await connect(`${url}/probe`);
    const ping = new Promise<Buffer>((resolve) => c.ws.once('ping', resolve));
    c.ws.send('ping:are you there');
    expect((await ping).toString()).toBe('are you there');
    c.ws.send('still open');
    await until(() => c.messages.length === 1, 3000, 'echo after ping');
    expect(c.texts()).toEqual(['still open']);
    c.ws.close();
    await c.closed;
  });

  test('sends from a thread started in on_connect arrive first and in order', async () => {
    const c = await connect(`${url}/probe`, [], { 'X-Early': '300' });
    c.ws.send('after');
    await until(() => c.messages.length === 301, 5000, 'early sends and the echo');
    expect(c.texts()).toEqual([...Array.from({ length: 300 }, (_, i) => `early-${i}`), 'after']);
    c.ws.close();
    await c.closed;
  });
});

test('a plugin sending to other connections (broadcast) reaches each of them in order', async () => {
  const clients = await Promise.all(Array.from({ length: 10 }, () => connect(`${url}/chat`)));
  for (let k = 0; k < 50; k++) for (const [i, c] of clients.entries()) c.ws.send(`c${i}-${k}`);
  await until(() => clients.every((c) => c.messages.length === 500), 5000, 'every broadcast');
  for (const c of clients) {
    for (let i = 0; i < clients.length; i++) {
      const fromI = c.texts().filter((t) => t.startsWith(`c${i}-`));
      expect(fromI).toEqual(Array.from({ length: 50 }, (_, k) => `c${i}-${k}`));
    }
  }
  for (const c of clients) c.ws.close();
  await Promise.all(clients.map((c) => c.closed));
});

describe('dumb_increment.c', () => {
  test('counts every 50 ms with the subprotocol, and "reset\\n" starts again', async () => {
    const c = await connect(`${url}/increment`, ['dumb-increment-protocol']);
    expect(c.ws.protocol).toBe('dumb-increment-protocol');
    await until(() => c.messages.length >= 4, 3000, 'four counts');
    expect(c.texts().slice(0, 4)).toEqual(['0', '1', '2', '3']);
    c.ws.send('reset'); // not exactly "reset\n": ignored
    c.ws.send('reset\n');
    const resetAt = c.messages.length;
    await until(() => c.messages.length >= resetAt + 3, 3000, 'counts after reset');
    const after = c.texts().slice(resetAt).map(Number);
    // at most one count was already on its way when the reset arrived
    const zero = after.indexOf(0);
    expect(zero === 0 || (zero === 1 && after[0] === resetAt)).toBe(true);
    expect(after[zero + 1]).toBe(1);
    c.ws.close();
    await c.closed;
  });

  test('declines (403) without the subprotocol', async () => {
    const answer = await handshake(`${url}/increment`, ['other-protocol']);
    expect(answer.status).toBe(403);
    const none = await handshake(`${url}/increment`);
    expect(none.status).toBe(403);
  });
});

test('a client that drops TCP without a close frame still ends the plugin connection', async () => {
  const lib = nativeLibrary() as NativeLibrary;
  const before = await settledLiveConnections(lib.liveConnections);
  const c = await connect(`${url}/increment`, ['dumb-increment-protocol']);
  await until(() => c.messages.length >= 1, 3000, 'a count');
  expect(toNumber(lib.liveConnections())).toBe(before + 1);
  c.ws.terminate();
  // on_disconnect stopped and joined the counting thread; the C connection and its pool are freed
  await until(() => toNumber(lib.liveConnections()) === before, 3000, 'the C connection to be freed');
});
