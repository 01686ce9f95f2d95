// Native plugin benchmark, against the compiled dist/ (npm run bench, or node bench/native.bench.mjs).
// Same run, same `ws` client, each server in its own child process:
//  - echo round trips through the C echo plugin (build/plugins/echo.so) vs the JS echo handler
//    (handlers/echo.mjs) in one wsgate, and a `ws` echo server as the outside baseline;
//    1 connection sequential and 50 connections pipelined, 32 B and 16 KiB. Goal: C/JS >= 0.9.
//  - dumb-increment style ticks with 1,000 connections: a C thread per connection sends every 50 ms
//    (test/fixtures/plugins/ticker.c, which embeds CLOCK_MONOTONIC = node's hrtime clock); delay
//    from the thread's send() to the client's 'message', p50/p99/max. Baseline: a `ws` server with a
//    50 ms timer per connection, delay from its ws.send() call.
//  - thread sends: 4 connections each ask test/fixtures/plugins/probe.c for "stream:N:SIZE:RATE" (a
//    plugin thread sends N binaries at RATE a second, a rate both servers keep up with); server CPU
//    (user + sys, all its threads) per message delivered. Baseline: a `ws` server sending the same
//    from a 1 ms timer, each message copied into a buffer of its own (as a plugin's send is).
// WSGATE_NATIVE_BENCH_CASES=echo,threads,ticks (the default: all) picks sections.
// Medians of WSGATE_BENCH_RUNS runs (default 5), each after an untimed warm-up on the same connections; WSGATE_NATIVE_BENCH_SECONDS (default 5) of ticks.
import { fork, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { withRaisedFileLimit } from './file-limit.mjs';
import { buildBurst, maskedText, openRaw, runBurst, serverFrameLength } from './raw-pipeline.mjs';
import { mainThreadCpuMs, treeCpuMs } from './server-load.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 5);
const TICK_SECONDS = Number(process.env.WSGATE_NATIVE_BENCH_SECONDS ?? 5);
const TICK_CONNECTIONS = Number(process.env.WSGATE_NATIVE_BENCH_CONNECTIONS ?? 1000);
const TICK_MS = 50;
const PIPELINE_CONNECTIONS = 50;
const SIZES = [
  { label: '32 B', bytes: 32, sequential: 5000, pipelined: 2000 },
  { label: '16 KiB', bytes: 16 * 1024, sequential: 2000, pipelined: 200 },
];
const CASE_TIMEOUT_MS = 60_000;
const CASES = new Set((process.env.WSGATE_NATIVE_BENCH_CASES ?? 'echo,threads,ticks').split(','));
const STREAM_CONNECTIONS = 4;
/** Each connection's stream: `count` messages at `perSecond` (2 s). */
const STREAMS = [
  { label: '32 B', bytes: 32, count: 50_000, perSecond: 25_000 },
  { label: '16 KiB', bytes: 16 * 1024, count: 10_000, perSecond: 5_000 },
];
/** What the probe's thread sends after a stream. */
const STREAM_END = 'streamed';

const role = process.argv[2];
if (role === '--server') await serve(process.argv[3], process.argv[4], process.argv[5]);
else if (withRaisedFileLimit(self, 'WSGATE_NATIVE_BENCH_NOFILE')) await main();


// ---------------------------------------------------------------- server children

async function serve(kind, tickerSo, probeSo) {
  let port;
  if (kind === 'wsgate') {
    const { startGateway } = await import(pathToFileURL(resolve(root, 'dist/server/gateway.js')).href);
    // As `wsgate serve` does once it serves (src/server/malloc-tuning.ts).
    const { tuneMalloc } = await import(pathToFileURL(resolve(root, 'dist/server/malloc-tuning.js')).href);
    const { pino } = await import('pino');
    const settings = {
      maxMessageSize: 33554432, supportDraft75: false, originCheck: 'off', trustedOrigins: [], maxConnections: 0,
      pingInterval: 0, handshakeTimeout: 10, closeTimeout: 5, sendQueueLimit: 256 * 1024 * 1024,
    };
    const mainServer = { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };
    const loc = { file: 'bench', line: 1, column: 1 };
    const endpoint = (path, handler) => ({ vhost: mainServer, match: { kind: 'prefix', path }, settings, loc, handler: { ...handler, loc } });
    const running = await startGateway({
      file: 'bench', serverRoot: root, listen: [{ host: '127.0.0.1', port: 0, loc: undefined }], logLevel: 'silent',
      mainServer, virtualHosts: [], loadedModules: [], defines: {}, ignored: [],
      remoteIp: { header: undefined, trustedProxies: [] }, control: { socket: undefined, listen: undefined, token: undefined },
      endpoints: [
        endpoint('/c', { kind: 'native', path: resolve(root, 'build/plugins/echo.so'), init: 'echo_init' }),
        endpoint('/js', { kind: 'js', path: resolve(root, 'handlers/echo.mjs'), exportName: undefined }),
        endpoint('/ticker', { kind: 'native', path: tickerSo, init: 'ticker_init' }),
        endpoint('/probe', { kind: 'native', path: probeSo, init: 'probe_init' }),
      ],
    }, { log: pino({ level: 'silent' }) });
    port = running.addresses[0].port;
    tuneMalloc();
  } else {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 33554432 });
    wss.on('connection', (ws, req) => {
      if (req.url === '/ticker') {
        let seq = 0;
        const timer = setInterval(() => ws.send(`t${seq++}:${process.hrtime.bigint()}`), TICK_MS);
        ws.on('close', () => clearInterval(timer));
      } else if (req.url === '/probe') {
        // probe.c's "stream:N:SIZE:RATE" from a 1 ms timer (the messages due at each call), each
        // message in memory of its own, as a plugin's send is copied out of the plugin's buffer.
        ws.on('message', (data) => {
          const [, count, bytes, perSecond] = data.toString().split(':').map(Number);
          const payload = Buffer.alloc(bytes, 0x62);
          const started = performance.now();
          let sent = 0;
          const due = () => {
            const end = Math.min(count, Math.ceil(((performance.now() - started) * perSecond) / 1000));
            for (; sent < end; sent++) ws.send(Buffer.from(payload), { binary: true });
            if (sent < count) setTimeout(due, 1);
            else ws.send(STREAM_END);
          };
          due();
        });
      } else {
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
      }
    });
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
  }
  process.send({ port });
}

function startServer(kind, tickerSo, probeSo) {
  return new Promise((ok, fail) => {
    const child = fork(self, ['--server', kind, tickerSo, probeSo], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', ({ port }) => ok({ child, base: `ws://127.0.0.1:${port}` }));
    child.once('exit', (code) => fail(new Error(`${kind} server exited with ${code}`)));
  });
}

// ---------------------------------------------------------------- client side (this process)

function open(url, headers = {}) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 33554432, headers });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

function bounded(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`${what} timed out`)), CASE_TIMEOUT_MS))),
  ]);
}

// Each case first runs once untimed on the same connections: the timed run measures the steady
// state (warm JIT, allocated connection state) of every server alike, not its first messages.
async function sequential(url, size) {
  const ws = await open(url);
  const payload = Buffer.alloc(size.bytes, 0x61);
  const roundTrips = () => bounded(new Promise((done) => {
    let left = size.sequential;
    ws.on('message', () => (--left === 0 ? done() : ws.send(payload)));
    ws.send(payload);
  }).finally(() => ws.removeAllListeners('message')), 'sequential');
  await roundTrips();
  const started = process.hrtime.bigint();
  await roundTrips();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  ws.terminate();
  return size.sequential / seconds;
}

/** Raw pre-masked frames (raw-pipeline.mjs), so the server, not the client, is measured. */
async function pipelined(url, size) {
  const sockets = await Promise.all(Array.from({ length: PIPELINE_CONNECTIONS }, () => openRaw(url)));
  const data = buildBurst(size.bytes, size.pipelined);
  const burst = () => bounded(runBurst(sockets, data), 'pipelined');
  await burst();
  const started = process.hrtime.bigint();
  await burst();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const socket of sockets) socket.destroy();
  return (PIPELINE_CONNECTIONS * size.pipelined) / seconds;
}

/** STREAM_CONNECTIONS raw connections each ask for a stream; the server's CPU per message delivered. */
async function threadStream(url, child, stream) {
  const sockets = await Promise.all(Array.from({ length: STREAM_CONNECTIONS }, () => openRaw(url)));
  const ask = maskedText(`stream:${stream.count}:${stream.bytes}:${stream.perSecond}`);
  const expected = stream.count * serverFrameLength(stream.bytes) + serverFrameLength(STREAM_END.length);
  // The same exchange as an echo burst: the request written, a known number of bytes read back.
  const run = () => bounded(runBurst(sockets, { data: ask, echoBytes: expected }), 'thread stream');
  await run();
  const cpuBefore = treeCpuMs(child.pid);
  const loopBefore = mainThreadCpuMs(child.pid);
  const started = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuMs = treeCpuMs(child.pid) - cpuBefore;
  const loopMs = mainThreadCpuMs(child.pid) - loopBefore;
  for (const socket of sockets) socket.destroy();
  const messages = STREAM_CONNECTIONS * stream.count;
  return { rate: messages / seconds, cpuUs: (cpuMs * 1000) / messages, loopUs: (loopMs * 1000) / messages };
}

/** Opens TICK_CONNECTIONS ticker clients, records send→receive delays after a 1 s settle time. */
async function tickDelays(url) {
  const clients = [];
  for (let i = 0; i < TICK_CONNECTIONS; i += 100) {
    const batch = Math.min(100, TICK_CONNECTIONS - i);
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => open(url, { 'X-Interval-Us': String(TICK_MS * 1000) })))));
  }
  const delays = [];
  let recording = false;
  for (const ws of clients) {
    ws.on('message', (data) => {
      if (!recording) return;
      const text = data.toString();
      const sentAt = BigInt(text.slice(text.indexOf(':') + 1));
      delays.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
    });
  }
  await new Promise((r) => setTimeout(r, 1000));
  recording = true;
  await new Promise((r) => setTimeout(r, TICK_SECONDS * 1000));
  recording = false;
  for (const ws of clients) ws.close();
  await Promise.all(clients.map((ws) => new Promise((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', r)))));
  delays.sort((a, b) => a - b);
  const at = (q) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))];
  return { count: delays.length, p50: at(0.5), p99: at(0.99), max: delays.at(-1) };
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}
function rate(n) {
  return `${Math.round(n).toLocaleString('en-US')}/s`;
}

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

function compileFixture(name) {
  const out = join(mkdtempSync(join(tmpdir(), 'wsgate-native-bench-')), `${name}.so`);
  const r = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-pthread', `-I${join(root, 'handlers/include')}`, '-o', out, join(root, `test/fixtures/plugins/${name}.c`)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cc ${name}.c failed: ${r.stderr}`);
  return out;
}

async function main() {
  const built = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--quiet'], { stdio: 'inherit' });
  if (built.status !== 0) {
    console.log('native helper not built (no C compiler?): skipping the native benchmark');
    return;
  }
  const ticker = compileFixture('ticker');
  const probe = compileFixture('probe');
  const wsgate = await startServer('wsgate', ticker, probe);
  const ws = await startServer('ws', ticker, probe);
  try {
    if (CASES.has('echo')) await echoCases(wsgate, ws);
    if (CASES.has('threads')) await threadCases(wsgate, ws);
    if (CASES.has('ticks')) await tickCases(wsgate, ws);
  } finally {
    wsgate.child.kill();
    ws.child.kill();
  }
}

async function echoCases(wsgate, ws) {
  console.log(`echo round trips (median of ${RUNS}; C/JS: median of the runs' back-to-back pairs, goal >= 0.90)`);
  const rows = [];
  for (const size of SIZES) {
    for (const [mode, run] of [['sequential, 1 conn', sequential], [`pipelined, ${PIPELINE_CONNECTIONS} conns`, pipelined]]) {
      const results = { c: [], js: [], ws: [] };
      for (let i = 0; i < RUNS; i++) {
        // C and JS back to back, first by turns: each run's C/JS compares them under the same load.
        for (const path of i % 2 === 0 ? ['c', 'js'] : ['js', 'c']) results[path].push(await run(`${wsgate.base}/${path}`, size));
        results.ws.push(await run(`${ws.base}/echo`, size));
      }
      const c = median(results.c);
      const js = median(results.js);
      const base = median(results.ws);
      const cjs = median(results.c.map((r, i) => r / results.js[i]));
      rows.push([`${size.label} ${mode}`, rate(c), rate(js), rate(base), cjs.toFixed(2), (c / base).toFixed(2)]);
    }
  }
  table(['case', 'C plugin', 'JS handler', 'ws', 'C/JS', 'C/ws'], rows);
}

async function threadCases(wsgate, ws) {
  console.log(`\nthread sends: ${STREAM_CONNECTIONS} connections, each a paced stream from a plugin thread (median of ${RUNS}); server CPU µs per message`);
  const streamRows = [];
  for (const stream of STREAMS) {
    const results = { c: [], ws: [] };
    for (let i = 0; i < RUNS; i++) {
      results.c.push(await threadStream(`${wsgate.base}/probe`, wsgate.child, stream));
      results.ws.push(await threadStream(`${ws.base}/probe`, ws.child, stream));
    }
    const cpu = (xs) => median(xs.map((r) => r.cpuUs));
    const loop = (xs) => median(xs.map((r) => r.loopUs));
    const perSecond = (xs) => median(xs.map((r) => r.rate));
    streamRows.push([`${stream.label}, ${rate(stream.perSecond)} each`, rate(perSecond(results.c)), cpu(results.c).toFixed(2), loop(results.c).toFixed(2),
      rate(perSecond(results.ws)), cpu(results.ws).toFixed(2), loop(results.ws).toFixed(2), (cpu(results.c) / cpu(results.ws)).toFixed(2), (loop(results.c) / loop(results.ws)).toFixed(2)]);
  }
  table(['case', 'C thread', 'CPU µs', 'loop µs', 'ws', 'CPU µs', 'loop µs', 'CPU C/ws', 'loop C/ws'], streamRows);
  console.log('CPU: the server process, all threads; loop: its main thread (the event loop), per message');
}

async function tickCases(wsgate, ws) {
  console.log(`\nticks every ${TICK_MS} ms on ${TICK_CONNECTIONS} connections, ${TICK_SECONDS} s: delay send → client receive (ms)`);
  const c = await tickDelays(`${wsgate.base}/ticker`);
  const base = await tickDelays(`${ws.base}/ticker`);
  const fmt = (n) => n.toFixed(2);
  table(['server', 'samples', 'p50', 'p99', 'max'], [
    ['wsgate C thread', String(c.count), fmt(c.p50), fmt(c.p99), fmt(c.max)],
    ['ws timer', String(base.count), fmt(base.p50), fmt(base.p99), fmt(base.max)],
  ]);
  console.log(`p50 ratio ws/wsgate ${(base.p50 / c.p50).toFixed(2)}, p99 ratio ws/wsgate ${(base.p99 / c.p99).toFixed(2)} (> 1: wsgate faster)`);
}
