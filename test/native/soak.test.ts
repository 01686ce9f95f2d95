// The original host's failure cases, with real sockets and compiled plugins:
// - crash: 20 connections, a plugin thread sending every millisecond while each client floods
//   for 30 s (WSGATE_NATIVE_SOAK_SECONDS=5 for a quick run);
// - deadlock: on_disconnect joins a thread that is sending, 1,000 connect/disconnect cycles;
// - sends after on_disconnect began return 0.
import koffi from 'koffi';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { nativeLibrary, toNumber, type NativeLibrary } from '../../src/plugins/native/ffi.js';
import type { RunningGateway } from '../../src/server/gateway.js';
import { buildNative, compileFixture, connect, startNative, until, type Client } from './helpers.js';

const SOAK_SECONDS = Number(process.env.WSGATE_NATIVE_SOAK_SECONDS ?? 30);
const CYCLES = Number(process.env.WSGATE_NATIVE_CYCLES ?? 1000);

let gateway: RunningGateway;
let url: string;
let lib: NativeLibrary;
let lateStats: () => { late: number; nonzero: number };

beforeAll(async () => {
  buildNative();
  const ticker = compileFixture('ticker');
  const late = compileFixture('late');
  ({ gateway, url } = await startNative([
    { location: '/ticker', path: ticker, init: 'ticker_init' },
    { location: '/late', path: late, init: 'late_init' },
  ]));
  lib = nativeLibrary() as NativeLibrary;
  const stats = koffi.load(late).func('void late_stats(_Out_ long *late, _Out_ long *nonzero)');
  lateStats = () => {
    const late = [0];
    const nonzero = [0];
    stats(late, nonzero);
    return { late: late[0]!, nonzero: nonzero[0]! };
  };
});

afterAll(async () => {
  await gateway?.close();
});

/** Checks ticks "t<seq>:<ns>" count up by one and echoes "em<i>" follow the send order. */
function verify(client: Client, sent: number): void {
  let nextTick = 0;
  let nextEcho = 0;
  for (const text of client.texts()) {
    if (text.startsWith('t')) {
      expect(Number(text.slice(1, text.indexOf(':')))).toBe(nextTick++);
    } else {
      expect(text).toBe(`em${nextEcho++}`);
    }
  }
  expect(nextEcho).toBe(sent);
  expect(nextTick).toBeGreaterThan(0);
}

/** Sends "m0", "m1", ... until the deadline, never letting more than 256 KiB wait in the client. */
async function flood(client: Client, deadline: number): Promise<number> {
  let sent = 0;
  while (Date.now() < deadline) {
    if (client.ws.bufferedAmount < 256 * 1024) {
      for (let i = 0; i < 50; i++) client.ws.send(`m${sent++}`);
    }
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}

test(`20 clients flood a plugin that sends every ms for ${SOAK_SECONDS} s: no crash, order kept, nothing lost`, { timeout: SOAK_SECONDS * 1000 + 90_000 }, async () => {
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect(`${url}/ticker`, [], { 'X-Interval-Us': '1000' })));
  const deadline = Date.now() + SOAK_SECONDS * 1000;
  const sent = await Promise.all(clients.map((c) => flood(c, deadline)));
  for (const c of clients) c.ws.close(1000);
  const closes = await Promise.all(clients.map((c) => c.closed));
  for (const [i, c] of clients.entries()) {
    expect(closes[i]!.code).toBe(1000);
    verify(c, sent[i]!);
  }
  expect(sent.reduce((a, b) => a + b, 0)).toBeGreaterThan(20 * 100);
  await until(() => toNumber(lib.liveConnections()) === 0, 5000, 'every C connection freed');
});

test(`${CYCLES} connect/disconnect cycles while on_disconnect joins a sending thread: no hang, memory back`, { timeout: 60_000 }, async () => {
  const concurrency = 10;
  let started = 0;
  let rssAfterWarmup = 0;
  async function cycle(n: number): Promise<void> {
    const c = await connect(`${url}/ticker`, [], { 'X-Interval-Us': '200' });
    await until(() => c.messages.length > 0, 5000, 'a first tick');
    if (n % 2 === 0) {
      c.ws.close();
      await c.closed;
    } else {
      c.ws.terminate(); // TCP drop, no close frame
      await c.closed;
    }
  }
  async function worker(): Promise<void> {
    while (started < CYCLES) {
      const n = started++;
      if (n === 100) rssAfterWarmup = process.memoryUsage().rss;
      if (process.env.WSGATE_NATIVE_VERBOSE && n % 500 === 0) console.log(`cycle ${n}: RSS ${(process.memoryUsage().rss / 1048576).toFixed(1)} MiB, heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(1)} MiB`);
      await cycle(n);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  await until(() => toNumber(lib.liveConnections()) === 0, 10_000, 'every on_disconnect to return');
  global.gc?.();
  await new Promise((r) => setTimeout(r, 200));
  const growth = process.memoryUsage().rss - rssAfterWarmup;
  if (process.env.WSGATE_NATIVE_VERBOSE) console.log(`RSS growth after warm-up over ${CYCLES - 100} cycles: ${(growth / 1048576).toFixed(1)} MiB`);
  expect(growth).toBeLessThan(48 * 1024 * 1024);
});

test('sends after on_disconnect began return 0 (from on_disconnect itself and from plugin threads)', async () => {
  const before = lateStats();
  const clients = await Promise.all(Array.from({ length: 20 }, () => connect(`${url}/late`)));
  await until(() => clients.every((c) => c.messages.length >= 3), 5000, 'a few sends each');
  for (const [i, c] of clients.entries()) {
    if (i % 2) c.ws.terminate();
    else c.ws.close();
  }
  await Promise.all(clients.map((c) => c.closed));
  await until(() => toNumber(lib.liveConnections()) === 0, 10_000, 'every on_disconnect to return');
  const after = lateStats();
  // each on_disconnect: its own send + at least 5 thread sends while it ran
  expect(after.late - before.late).toBeGreaterThanOrEqual(20 * 6);
  expect(after.nonzero - before.nonzero).toBe(0);
});
