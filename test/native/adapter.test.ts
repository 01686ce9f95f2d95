// The C helper and the Handler adapter through koffi, with a fake connection (no sockets).
import koffi from 'koffi';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { INVALID_CLOSE_REASON } from '../../src/plugins/native/close-payload.js';
import { loadNativeHandler } from '../../src/plugins/native/index.js';
import { nativeLibrary, toNumber, type NativeLibrary } from '../../src/plugins/native/ffi.js';
import type { Connection, EndpointInfo, Handler } from '../../src/plugins/types.js';
import { FakeConnection, SlowFakeConnection } from './fake-connection.js';
import { buildNative, compileFixture, nativeSpec, until } from './helpers.js';

const QUEUE_CAP = 1024 * 1024;
let handler: Handler;
let lib: NativeLibrary;
let probeFloodZeroAt: () => number;
let probeDestroyed: () => number;

function endpoint(): EndpointInfo {
  return { location: '/probe', handlerPath: 'probe.so', log: pino({ level: 'silent' }), settings: { sendQueueLimit: QUEUE_CAP } as EndpointInfo['settings'] };
}

beforeAll(async () => {
  buildNative();
  const so = compileFixture('probe');
  handler = await loadNativeHandler(nativeSpec(so, 'probe_init'), endpoint());
  const loaded = nativeLibrary();
  if (!('drain' in loaded)) throw loaded;
  lib = loaded;
  // The same library the helper opened (dlopen returns the loaded copy): read the plugin's counters.
  const probe = koffi.load(so);
  probeFloodZeroAt = probe.func('long probe_flood_zero_at(void)') as () => number;
  probeDestroyed = probe.func('int probe_destroyed(void)') as () => number;
});

async function accept(fake: FakeConnection): Promise<Connection> {
  const state = await handler.onConnect!(fake.asPending());
  expect(state).not.toBe(false);
  fake.state = state;
  return fake as unknown as Connection;
}

async function disconnect(conn: Connection): Promise<void> {
  await handler.onDisconnect!(conn, 1000, '');
}

const message = (conn: Connection, text: string) => handler.onMessage!(conn, Buffer.from(text), false);

describe('on_connect', () => {
  test('sets response headers, reads request headers case-insensitively, sees the offered protocols', async () => {
    const fake = new FakeConnection({ host: 'example.test:81', 'x-choose': 'chat' }, ['superchat', 'chat, extra']);
    const conn = await accept(fake);
    expect(fake.responseHeaders.get('x-plugin')).toBe('probe');
    expect(fake.responseHeaders.has('X-Plugin')).toBe(false);
    expect(fake.responseHeaders.get('X-Seen-Host')).toBe('example.test:81');
    // tokens split on comma/space, empty ones dropped; protocol_index past the end is NULL
    expect(fake.responseHeaders.get('X-Protocols')).toBe('3;superchat;chat;extra');
    expect(fake.responseHeaders.has('X-Index-Past-End')).toBe(false);
    expect(fake.responseHeaders.get('X-Request')).toBe('pool');
    expect(fake.protocol).toBe('chat');
    await disconnect(conn);
  });

  test('without protocol_set no protocol is chosen', async () => {
    const fake = new FakeConnection({ host: 'h' }, ['a', 'b']);
    const conn = await accept(fake);
    expect(fake.protocol).toBe('');
    await disconnect(conn);
  });

  test('NULL declines and drops the headers it set', async () => {
    const before = toNumber(lib.liveConnections());
    const fake = new FakeConnection({ host: 'h', 'x-decline': '1' });
    expect(await handler.onConnect!(fake.asPending())).toBe(false);
    expect(fake.responseHeaders.size).toBe(0);
    expect(toNumber(lib.liveConnections())).toBe(before);
  });

  test('sends from a thread started in on_connect wait for the open connection and keep their order', async () => {
    const fake = new FakeConnection({ host: 'h', 'x-early': '200' });
    const conn = await accept(fake);
    // nothing may reach the connection before onConnect's result has been acted on
    expect(fake.calls).toEqual([]);
    await until(() => fake.calls.length >= 200, 3000, 'early sends');
    expect(fake.texts()).toEqual(Array.from({ length: 200 }, (_, i) => `early-${i}`));
    await disconnect(conn);
  });
});

describe('on_message and send', () => {
  test('the messages of one read go to the plugin in one call at onReadEnd, replies in order', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    handler.onReadStart!(conn);
    for (const text of ['a', 'bb', '', 'ccc']) handler.onMessage!(conn, Buffer.from(text), false);
    handler.onMessage!(conn, Buffer.from([7, 8]), true);
    expect(fake.calls).toEqual([]);
    handler.onReadEnd!(conn);
    expect(fake.calls.map((c) => (c.kind === 'send' ? `${c.isBinary ? 'b' : 't'}:${c.data.toString('hex')}` : c.kind))).toEqual([
      `t:${Buffer.from('a').toString('hex')}`,
      `t:${Buffer.from('bb').toString('hex')}`,
      't:',
      `t:${Buffer.from('ccc').toString('hex')}`,
      'b:0708',
    ]);
    await disconnect(conn);
  });

  test('replies are views of the buffer the helper wrote them into, which is never written again', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'burst:3');
    const burst = fake.calls.map((c) => (c.kind === 'send' ? c.data : Buffer.alloc(0)));
    expect(burst.map(String)).toEqual(['b0', 'b1', 'b2']);
    // One buffer for the three (no copy per payload after the plugin's send) …
    expect(new Set(burst.map((b) => b.buffer)).size).toBe(1);
    // … that later drains (small, echo-sized, and larger than the slab) leave alone.
    for (let i = 0; i < 50; i++) message(conn, `echo-${i}-${'x'.repeat(i * 97)}`);
    handler.onMessage!(conn, Buffer.alloc(200_000, 9), true);
    message(conn, 'big:300000');
    expect(burst.map(String)).toEqual(['b0', 'b1', 'b2']);
    const sent = fake.calls.map((c) => (c.kind === 'send' ? c.data : Buffer.alloc(0)));
    expect(sent.slice(3, 53).map(String)).toEqual(Array.from({ length: 50 }, (_, i) => `echo-${i}-${'x'.repeat(i * 97)}`));
    expect(sent[53]!.equals(Buffer.alloc(200_000, 9))).toBe(true);
    expect(sent[54]!.equals(Buffer.from(Array.from({ length: 300_000 }, (_, i) => i & 255)))).toBe(true);
    await disconnect(conn);
  });

  test("a reply made of the message's own bytes is a view of that message, not a copy", async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    const input = Buffer.alloc(20_000, 7);
    handler.onMessage!(conn, input, true);
    const small = Buffer.from('short echo');
    handler.onMessage!(conn, small, false);
    message(conn, 'big:300000');
    const sent = fake.calls.map((c) => (c.kind === 'send' ? c.data : Buffer.alloc(0)));
    // The echo of 20,000 bytes is the message's own memory (the helper sent an offset, not bytes).
    expect(sent[0]!.buffer).toBe(input.buffer);
    expect([sent[0]!.byteOffset, sent[0]!.length]).toEqual([input.byteOffset, input.length]);
    // Under 64 bytes a copy is as cheap as a reference; the plugin's own memory is always copied.
    expect(String(sent[1])).toBe('short echo');
    expect(sent[1]!.buffer).not.toBe(small.buffer);
    expect(sent[2]!.equals(Buffer.from(Array.from({ length: 300_000 }, (_, i) => i & 255)))).toBe(true);
    await disconnect(conn);
  });

  test('a message of 64 KiB or more in a read is handed over alone, after what came before it', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    handler.onReadStart!(conn);
    handler.onMessage!(conn, Buffer.from('small'), false);
    handler.onMessage!(conn, Buffer.alloc(64 * 1024, 1), true);
    expect(fake.calls.map((c) => (c.kind === 'send' ? c.data.length : -1))).toEqual([5, 65536]);
    handler.onMessage!(conn, Buffer.from('after'), false);
    handler.onReadEnd!(conn);
    expect(fake.calls.map((c) => (c.kind === 'send' ? c.data.length : -1))).toEqual([5, 65536, 5]);
    await disconnect(conn);
  });

  test("the messages of one read reach the plugin in one call, as the read's own bytes; other memory starts a call of its own", async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    const read = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7) & 255));
    const inRead = [read.subarray(0, 20_000), read.subarray(20_010, 40_010), read.subarray(40_020, 40_030)];
    const joined = Buffer.alloc(9_000, 3);
    const calls = { batch: 0, single: 0 };
    const { connMessages, connMessage } = lib;
    const counted = Object.assign(lib, {
      connMessages: (...args: Parameters<NativeLibrary['connMessages']>) => (calls.batch++, connMessages(...args)),
      connMessage: (...args: Parameters<NativeLibrary['connMessage']>) => (calls.single++, connMessage(...args)),
    });
    try {
      handler.onReadStart!(conn);
      for (const data of inRead) handler.onMessage!(conn, data, true);
      expect(fake.calls).toEqual([]);
      // A message joined from two reads lies elsewhere: what came before it is handed over first.
      handler.onMessage!(conn, joined, true);
      expect(fake.calls.length).toBe(3);
      handler.onMessage!(conn, read.subarray(40_040, 45_000), true);
      handler.onReadEnd!(conn);
    } finally {
      Object.assign(counted, { connMessages, connMessage });
    }
    // One call for the three in the read, then one each for the two that are alone in their batch.
    expect(calls).toEqual({ batch: 1, single: 2 });
    const sent = fake.calls.map((c) => (c.kind === 'send' ? c.data : Buffer.alloc(0)));
    expect(sent.map((b) => b.length)).toEqual([20_000, 20_000, 10, 9_000, 4_960]);
    // Echoes of 64 bytes and more are the read's memory (the helper sent offsets, not bytes).
    for (const i of [0, 1, 4]) {
      const source = i === 4 ? read.subarray(40_040, 45_000) : inRead[i]!;
      expect(sent[i]!.buffer).toBe(read.buffer);
      expect([sent[i]!.byteOffset, sent[i]!.length]).toEqual([source.byteOffset, source.length]);
    }
    expect(sent[2]!.equals(inRead[2]!)).toBe(true);
    expect(sent[3]!.equals(joined)).toBe(true);
    await disconnect(conn);
  });

  test('onClosing in the middle of a read answers the messages before it first', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    handler.onReadStart!(conn);
    handler.onMessage!(conn, Buffer.from('before the close'), false);
    handler.onClosing!(conn);
    expect(fake.calls).toEqual([{ kind: 'send', data: Buffer.from('before the close'), isBinary: false }]);
    handler.onReadEnd!(conn);
    await disconnect(conn);
  });

  test('echoes type and bytes, including empty messages', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    handler.onMessage!(conn, Buffer.from('héllo'), false);
    handler.onMessage!(conn, Buffer.from([0, 1, 255]), true);
    handler.onMessage!(conn, Buffer.alloc(0), true);
    handler.onMessage!(conn, Buffer.alloc(0), false);
    expect(fake.calls).toEqual([
      { kind: 'send', data: Buffer.from('héllo'), isBinary: false },
      { kind: 'send', data: Buffer.from([0, 1, 255]), isBinary: true },
      { kind: 'send', data: Buffer.alloc(0), isBinary: true },
      { kind: 'send', data: Buffer.alloc(0), isBinary: false },
    ]);
    await disconnect(conn);
  });

  test('replies are delivered synchronously and in order, also past one drain batch', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'burst:20000');
    expect(fake.calls.length).toBeGreaterThan(0); // the first batch during onMessage
    await until(() => fake.calls.length >= 20000, 5000, 'burst');
    expect(fake.texts()).toEqual(Array.from({ length: 20000 }, (_, i) => `b${i}`));
    await disconnect(conn);
  });

  test("handing replies over stops after the turn's budget and goes on in later turns, in order", async () => {
    // Sends that take 0.1 ms each: the pump's 2 ms budget per turn lets a few dozen through at once.
    const fake = new SlowFakeConnection(0.1);
    const conn = await accept(fake);
    message(conn, 'burst:3000');
    // Without the budget: the whole direct part and eight drain rounds (all 3,000) in this call.
    expect(fake.calls.length).toBeGreaterThan(0);
    expect(fake.calls.length).toBeLessThan(300);
    let turns = 0;
    while (fake.calls.length < 3000 && turns < 10_000) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
    expect(turns).toBeGreaterThan(5);
    expect(fake.texts()).toEqual(Array.from({ length: 3000 }, (_, i) => `b${i}`));
    await disconnect(conn);
  });

  test("a call's replies wait behind the replies the turn's budget left over, not ahead of them", async () => {
    // 200 replies fit in the slab, so they come back from the call itself and are handed over
    // straight from it until the budget stops them; the next message's echo must queue behind.
    const fake = new SlowFakeConnection(0.1);
    const conn = await accept(fake);
    message(conn, 'burst:200');
    expect(fake.calls.length).toBeLessThan(200);
    message(conn, 'after');
    await until(() => fake.calls.length === 201, 5000, 'all replies');
    expect(fake.texts()).toEqual([...Array.from({ length: 200 }, (_, i) => `b${i}`), 'after']);
    await disconnect(conn);
  });

  test("a read's messages count as released only once the pump has handed over every reply that quotes them", async () => {
    const fake = new SlowFakeConnection(0.1);
    const conn = await accept(fake);
    const read = Buffer.alloc(400 * 100, 7);
    handler.onReadStart!(conn);
    for (let i = 0; i < 400; i++) handler.onMessage!(conn, read.subarray(i * 100, (i + 1) * 100), true);
    handler.onReadEnd!(conn);
    // Echoes of 100 bytes are views of the read; the 2 ms budget left most for later turns.
    expect(fake.calls.length).toBeLessThan(400);
    expect(handler.releasedMessages!(conn)).toBe(false);
    await until(() => fake.calls.length === 400, 5000, 'all echoes');
    expect(handler.releasedMessages!(conn)).toBe(true);
    await disconnect(conn);
  });

  test('a message larger than the drain buffer arrives intact', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'big:300000');
    await until(() => fake.calls.length === 1, 3000, 'big message');
    const call = fake.calls[0]!;
    expect(call.kind === 'send' && call.isBinary).toBe(true);
    const expected = Buffer.from(Array.from({ length: 300000 }, (_, i) => i & 255));
    expect(call.kind === 'send' && call.data.equals(expected)).toBe(true);
    await disconnect(conn);
  });

  test('PING and PONG map to ping() and pong()', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'ping:abc');
    message(conn, 'pong:xyz');
    expect(fake.calls).toEqual([
      { kind: 'ping', data: Buffer.from('abc') },
      { kind: 'pong', data: Buffer.from('xyz') },
    ]);
    await disconnect(conn);
  });

  test('close() sends a close without code after earlier messages; later sends return 0', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'close');
    expect(fake.calls).toEqual([
      { kind: 'send', data: Buffer.from('bye'), isBinary: false },
      { kind: 'close', code: undefined, reason: undefined },
    ]);
    await disconnect(conn);
  });

  test('an unknown message type closes like CLOSE, its payload checked as a close payload', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'kill'); // type 999 with the 1-byte payload "x": no valid close payload → 1011
    expect(fake.calls).toEqual([{ kind: 'close', code: 1011, reason: INVALID_CLOSE_REASON }]);
    await disconnect(conn);
  });

  test('a queue over the byte cap refuses the send (0) and closes with 1008', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'flood:2000:1024');
    // Each queued frame also counts its bookkeeping (sizeof(queued_item), 16 bytes on LP64).
    const fit = Math.floor(QUEUE_CAP / (1024 + 16));
    expect(probeFloodZeroAt()).toBe(fit);
    await until(() => fake.calls.some((c) => c.kind === 'close'), 3000, 'the 1008 close');
    const sends = fake.calls.filter((c) => c.kind === 'send');
    expect(sends.length).toBe(fit);
    expect(fake.calls.at(-1)).toEqual({ kind: 'close', code: 1008, reason: 'send queue limit exceeded' });
    await disconnect(conn);
  });

  test('one frame larger than the cap still goes out when nothing else is queued', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, `big:${QUEUE_CAP + 1000}`);
    expect(fake.calls.map((c) => [c.kind, c.kind === 'send' ? c.data.length : 0])).toEqual([['send', QUEUE_CAP + 1000]]);
    await disconnect(conn);
  });

  test('once the close handshake started (onClosing), sends return 0', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'flood:1:8');
    expect(probeFloodZeroAt()).toBe(-1);
    handler.onClosing!(conn);
    message(conn, 'flood:1:8');
    expect(probeFloodZeroAt()).toBe(0);
    await disconnect(conn);
  });
});

describe('sends from plugin threads', () => {
  /** The binaries a stream delivered, checked against what probe.c's stream thread sends. */
  function checkStream(fake: FakeConnection, count: number, size: number): Buffer[] {
    const binaries = fake.calls.flatMap((c) => (c.kind === 'send' && c.isBinary ? [c.data] : []));
    expect(binaries.length).toBe(count);
    binaries.forEach((data, n) => {
      expect(data.length).toBe(size);
      expect(data.readUInt32LE(0)).toBe(n);
      expect(data[size - 1]).toBe((size - 1) & 255);
    });
    expect(fake.texts()).toEqual(['streamed']);
    return binaries;
  }

  test('arrive in order, intact, and as views of the arena the helper wrote them into (one copy), never rewritten', async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    // 800 KiB back to back: more than one 64 KiB arena between two drains, so the sends also go
    // through the queue and back (the order must survive both ways).
    message(conn, 'stream:200:4096');
    await until(() => fake.texts().length === 1, 5000, 'the stream');
    const first = checkStream(fake, 200, 4096);
    const arenaViews = first.filter((data) => data.buffer.byteLength === 64 * 1024);
    expect(arenaViews.length).toBeGreaterThan(0);
    const copies = first.map((data) => Buffer.from(data));
    // Paced at 1 KiB/ms, which the 16 KiB or more an arena has left hold for 16 ms of event-loop
    // delay (and the next arena is given before that): it carries nearly all of them.
    fake.calls.length = 0;
    message(conn, 'stream:300:1024:1000');
    await until(() => fake.texts().length === 1, 5000, 'the paced stream');
    const paced = checkStream(fake, 300, 1024);
    expect(paced.filter((data) => data.buffer.byteLength === 64 * 1024).length).toBeGreaterThan(150);
    // The first stream's views still hold what was sent: arenas are not reused.
    first.forEach((data, n) => expect(data.equals(copies[n]!)).toBe(true));
    // Everything taken: the queue-depth gauge counts arena records until JS takes them.
    const depth = new BigInt64Array(2);
    lib.queueDepth(depth);
    expect([...depth]).toEqual([0n, 0n]);
    await disconnect(conn);
  });

  /** `count` sends of `size` from the plugin's thread while this (the JS) thread is busy, so all of
   *  them wait in the helper when the wake-up comes; then every one must arrive, in order. The
   *  helper stays signalled meanwhile (no new wake byte): only the pump can go on draining. */
  async function streamWhileBusy(count: number, size: number): Promise<void> {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, `stream:${count}:${size}`);
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil);
    await until(() => fake.texts().length === 1, 5000, 'the stream');
    checkStream(fake, count, size);
    await disconnect(conn);
  }

  // 880 KiB (arena and queue, under the 1 MiB cap): more than a wake-up's 8 drains of at most 64 KiB
  // take, and the turn's budget is long spent: the turn's end hands over and drains on.
  test("a backlog larger than one wake-up's drains (8 slabs) arrives in full and in order", () => streamWhileBusy(220, 4096));

  // Ten 100 KiB sends: each is drained alone into a buffer of its own, one record per drain, so the
  // turn's budget is never consulted, and a wake-up's 8 drains leave two in the helper.
  test('sends too large for the slab, more of them than one wake-up drains, all arrive: the wake-up itself schedules the rest', () =>
    streamWhileBusy(10, 102400));

  test("a plugin's on_message replies and its thread's sends on one connection each keep their order", async () => {
    const fake = new FakeConnection();
    const conn = await accept(fake);
    message(conn, 'stream:2000:64:100000');
    for (let i = 0; i < 200; i++) {
      message(conn, `echo-${i}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => fake.texts().includes('streamed'), 5000, 'the stream');
    const texts = fake.texts().filter((t) => t !== 'streamed');
    expect(texts).toEqual(Array.from({ length: 200 }, (_, i) => `echo-${i}`));
    const numbers = fake.calls.flatMap((c) => (c.kind === 'send' && c.isBinary ? [c.data.readUInt32LE(0)] : []));
    expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    await disconnect(conn);
  });
});

describe('on_disconnect and destroy', () => {
  test('disconnect resolves after on_disconnect ran and frees the C connection', async () => {
    const before = toNumber(lib.liveConnections());
    const conns = await Promise.all(Array.from({ length: 50 }, () => accept(new FakeConnection({ host: 'h', 'x-early': '20' }))));
    expect(toNumber(lib.liveConnections())).toBe(before + 50);
    await Promise.all(conns.map(disconnect));
    expect(toNumber(lib.liveConnections())).toBe(before);
  });

  afterAll(async () => {
    const destroyedBefore = probeDestroyed();
    await handler.destroy!();
    expect(probeDestroyed()).toBe(destroyedBefore + 1);
    expect(toNumber(lib.liveConnections())).toBe(0);
  });
});
