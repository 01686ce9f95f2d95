// A plugin that produces without end cannot hurt everyone else (issue 14): its output is handed
// over in slices per event-loop turn, and what its non-reading clients are owed is bounded by
// memory. A JS canary on another Location keeps echoing during each attack; its latency is
// asserted loosely (a loaded 2-core CI box) but far below what the bug gave (p99 near 1 s). The
// bursting clients run in a process of their own: in this one, parsing what the gateway sends them
// (4,600 replies in one write since the helper frames them) stalled the loop the canary measures.
// The per-turn budget itself is checked in adapter.test.ts.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, gatewayConfig, testLog } from '../server/config-fixture.js';
import { Canary } from '../server/canary.js';
import { p99 } from '../server/helpers.js';
import { runProcess } from '../run-process.js';
import { buildNative, compileFixture, nativeSpec, until } from './helpers.js';

const ATTACKERS = fileURLToPath(new URL('./burst-attackers.mjs', import.meta.url));

const MiB = 1024 * 1024;
const CANARY_P99_MS = 250;
const CANARY_WINDOW_MS = 3000;
let gateway: RunningGateway;
let base: string;

beforeAll(async () => {
  buildNative();
  const probe = compileFixture('probe');
  gateway = await startGateway(
    gatewayConfig([
      endpoint('/probe', { handler: nativeSpec(probe, 'probe_init'), settings: { sendQueueLimit: 4 * MiB, closeTimeout: 20 } }),
      endpoint('/echo'),
    ]),
    { log: testLog },
  );
  base = `ws://127.0.0.1:${gateway.addresses[0]!.port}`;
});

afterAll(async () => {
  await gateway?.close();
});

function open(path: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base}${path}`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const closedWith = (ws: WebSocket): Promise<{ code: number; reason: string }> =>
  new Promise((r) => ws.once('close', (code, reason) => r({ code, reason: reason.toString() })));

test('20 connections bursting 5,000 messages per command: a canary elsewhere keeps its latency, nothing is lost or reordered', { timeout: 60_000 }, async () => {
  const canary = await Canary.start(`${base}/echo`, 10);
  const attackers = await runProcess(process.execPath, [ATTACKERS, `${base}/probe`, '20', '3000'], { timeoutMs: 30_000 });
  const report = await canary.stop();
  const result = JSON.parse(attackers.stdout || '{}') as { bursts?: number[]; error?: string };
  expect(result.error).toBeUndefined();
  expect(result.bursts).toHaveLength(20);
  expect(Math.min(...result.bursts!)).toBeGreaterThan(0);
  expect(report.echoed).toBe(report.sent);
  expect(report.sent).toBeGreaterThan(20);
  // Before: 9 echoes in 3 s, over 1.5 s each (every burst of a turn was handed over at once).
  expect(p99(report.latenciesMs)).toBeLessThan(CANARY_P99_MS);
});

test('4 clients that never read, on a plugin that bursts: memory bounded, each closed with 1008 it can see', { timeout: 60_000 }, async () => {
  const canaryStarted = Date.now();
  const canary = await Canary.start(`${base}/echo`, 10);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
  const victims = await Promise.all(Array.from({ length: 4 }, () => open('/probe')));
  const ends = victims.map(closedWith);
  for (const ws of victims) {
    ws.pause(); // reads nothing
    // 5 million messages each (35 MB of frames: more than loopback's kernel buffers and both 4 MiB queues).
    for (let i = 0; i < 1000; i++) ws.send('burst:5000');
  }
  // The gateway decides on its side; the clients see it once they read.
  await until(() => [...gateway.registry.local.select({ location: '/probe' })].length === 0 || peak - before > 200 * MiB, 30_000, 'the 1008s');
  clearInterval(sampler);
  // The canary watches for CANARY_WINDOW_MS at least, as in the test above: once the gateway wrote
  // the plugin's output in a few writes, the 1008s came within ~1 s, and a p99 over ~30 samples is
  // their maximum rather than a percentile.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, canaryStarted + CANARY_WINDOW_MS - Date.now())));
  const report = await canary.stop();
  // Per client at most the plugin's queue (4 MiB) and the socket's (4 MiB, messages at their cost),
  // plus allocator and collector slack: ~130 MB measured for the 4. Counted by bytes alone the
  // socket side held 600,000 write requests per client: past 200 MB and still growing.
  expect(peak - before).toBeLessThan(200 * MiB);
  for (const ws of victims) ws.resume();
  for (const end of await Promise.all(ends)) expect(end).toEqual({ code: 1008, reason: 'send queue limit exceeded' });
  expect(report.echoed).toBe(report.sent);
  expect(p99(report.latenciesMs)).toBeLessThan(CANARY_P99_MS);
});
