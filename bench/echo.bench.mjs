// Echo benchmark, run against the compiled dist/ (npm run bench, or node bench/echo.bench.mjs):
// wsgate with the JS echo handler (handlers/echo.mjs) against a `ws` WebSocketServer echo, in the
// same run, with the same clients (a `ws` client for one message at a time, a raw pipelining client
// for the batches: see raw-pipeline.mjs):
//  - round trips: 1 connection sequential, and 50 connections × pipelined, for 32 B, 16 KiB, 1 MiB;
//  - RSS per idle connection with 10,000 idle connections.
// Each server runs in its own child process; the memory clients run in yet another one.
// Medians of RUNS runs; ratio = wsgate/ws for speed and ws/wsgate for memory (> 1: wsgate better).
import { fork, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { withRaisedFileLimit } from './file-limit.mjs';
import { buildBurst, openRaw, runBurst } from './raw-pipeline.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 5);
const IDLE = Number(process.env.WSGATE_BENCH_IDLE ?? 10_000);
const SIZES = [
  // Pipelined batches long enough (0.3-1 s) that one run is not a scheduling accident.
  { label: '32 B', bytes: 32, sequential: 5000, pipelined: 2000 },
  { label: '16 KiB', bytes: 16 * 1024, sequential: 2000, pipelined: 200 },
  { label: '1 MiB', bytes: 1024 * 1024, sequential: 60, pipelined: 6 },
];
const PIPELINE_CONNECTIONS = 50;
const CASE_TIMEOUT_MS = 30_000;

const role = process.argv[2];
if (role === '--server') await runServer(process.argv[3]);
else if (role === '--idle-clients') await runIdleClients(Number(process.argv[3]), Number(process.argv[4]));
else if (withRaisedFileLimit(self, 'WSGATE_ECHO_BENCH_NOFILE')) await main();

/** 10,000 sockets per process need more descriptors than the usual soft limit of 1024: re-run under
 *  a shell that raised it (children inherit it). */

// ---------------------------------------------------------------- server child

async function runServer(kind) {
  let port;
  if (kind === 'wsgate') {
    const { startGateway } = await import(pathToFileURL(resolve(root, 'dist/server/gateway.js')).href);
    const { pino } = await import('pino');
    const settings = {
      maxMessageSize: 33554432, supportDraft75: false, originCheck: 'off', trustedOrigins: [], maxConnections: 0,
      pingInterval: 0, handshakeTimeout: 10, closeTimeout: 5, sendQueueLimit: 256 * 1024 * 1024,
    };
    const main = { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };
    const loc = { file: 'bench', line: 1, column: 1 };
    const config = {
      file: 'bench', serverRoot: root, listen: [{ host: '127.0.0.1', port: 0, loc: undefined }], logLevel: 'silent',
      mainServer: main, virtualHosts: [], loadedModules: [], defines: {}, ignored: [],
      remoteIp: { header: undefined, trustedProxies: [] }, control: { socket: undefined, listen: undefined, token: undefined },
      endpoints: [{ vhost: main, match: { kind: 'prefix', path: '/echo' }, settings, loc,
        handler: { kind: 'js', path: resolve(root, 'handlers/echo.mjs'), exportName: undefined, loc } }],
    };
    const running = await startGateway(config, { log: pino({ level: 'silent' }) });
    port = running.addresses[0].port;
  } else {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 33554432 });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
  }
  process.on('disconnect', () => process.exit(0)); // the bench died: do not linger
  process.on('message', (msg) => {
    if (msg === 'rss') {
      globalThis.gc?.();
      globalThis.gc?.();
      setTimeout(() => process.send({ rss: process.memoryUsage().rss }), 200);
    }
  });
  process.send({ port });
}

function startServer(kind) {
  return new Promise((resolveServer, reject) => {
    const child = fork(self, ['--server', kind], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', ({ port }) => resolveServer({ child, port, url: `ws://127.0.0.1:${port}/echo` }));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
}

function ask(child, question) {
  return new Promise((r) => {
    child.once('message', r);
    child.send(question);
  });
}

// ---------------------------------------------------------------- idle clients child

/** Open n raw WebSocket connections (handshake only), then report and wait. */
async function runIdleClients(port, n) {
  const sockets = [];
  const request =
    'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
  const openOne = () =>
    new Promise((ok, fail) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', fail);
      socket.once('data', (d) => (d.toString('latin1').startsWith('HTTP/1.1 101') ? ok(socket) : fail(new Error('no 101'))));
      socket.write(request);
    });
  const BATCH = 200;
  for (let i = 0; i < n; i += BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, openOne));
    sockets.push(...batch);
  }
  process.send({ open: sockets.length });
  process.on('disconnect', () => process.exit(0));
}

// ---------------------------------------------------------------- client side (this process)

function openClient(url) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 33554432 });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, fail) => (timer = setTimeout(() => fail(new Error(`${what} timed out`)), CASE_TIMEOUT_MS))),
  ]);
}

/** One connection, one message in flight: round trips per second. */
async function sequential(url, size) {
  const ws = await openClient(url);
  const payload = Buffer.alloc(size.bytes, 0x61);
  const started = process.hrtime.bigint();
  await withTimeout(
    new Promise((done) => {
      let left = size.sequential;
      ws.on('message', () => {
        if (--left === 0) done();
        else ws.send(payload);
      });
      ws.send(payload);
    }),
    'sequential',
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  ws.terminate();
  return size.sequential / seconds;
}

/** 50 connections, each writing its whole batch at once (raw pre-masked frames, so the client
 *  costs next to nothing): echoed messages per second. */
async function pipelined(url, size) {
  const sockets = await Promise.all(Array.from({ length: PIPELINE_CONNECTIONS }, () => openRaw(url)));
  const burst = buildBurst(size.bytes, size.pipelined);
  const started = process.hrtime.bigint();
  await withTimeout(runBurst(sockets, burst), 'pipelined');
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const socket of sockets) socket.destroy();
  return (PIPELINE_CONNECTIONS * size.pipelined) / seconds;
}

/** Fresh server, RSS before and after IDLE idle connections (clients in their own process). */
async function idleMemory(kind) {
  const server = await startServer(kind);
  const before = (await ask(server.child, 'rss')).rss;
  const clients = fork(self, ['--idle-clients', String(server.port), String(IDLE)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { open } = await withTimeout(new Promise((r) => clients.once('message', r)), 'idle clients');
  await new Promise((r) => setTimeout(r, 300));
  const after = (await ask(server.child, 'rss')).rss;
  // The server goes first, so TIME_WAIT lands on its side and the client ports are free again.
  server.child.kill();
  await new Promise((r) => server.child.once('exit', r));
  clients.kill();
  await new Promise((r) => clients.once('exit', r));
  return (after - before) / open / 1024;
}

function median(values) {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

function printTable(rows) {
  const header = ['case', 'wsgate', 'ws', 'ratio'];
  const lines = rows.map((r) => [r.name, r.wsgate, r.ws, r.ratio]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(fmt(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
}

async function main() {
  const t0 = Date.now();
  const nofile = Number(process.env.WSGATE_ECHO_BENCH_NOFILE);
  if (nofile < IDLE + 256) console.log(`note: file descriptor limit ${nofile} is too low for ${IDLE} idle connections; raise it (ulimit -n)`);
  console.log(`echo bench: wsgate (handlers/echo.mjs) vs ws ${(await import('ws/package.json', { with: { type: 'json' } })).default.version}, median of ${RUNS} runs, node ${process.version}`);
  const servers = { wsgate: await startServer('wsgate'), ws: await startServer('ws') };
  const rows = [];
  for (const [mode, fn] of [['1 conn sequential', sequential], [`${PIPELINE_CONNECTIONS} conns pipelined`, pipelined]]) {
    for (const size of SIZES) {
      const results = { wsgate: [], ws: [] };
      for (const kind of ['wsgate', 'ws']) await fn(servers[kind].url, { ...size, sequential: Math.ceil(size.sequential / 5), pipelined: Math.ceil(size.pipelined / 4) }); // warm-up
      for (let run = 0; run < RUNS; run++) {
        // Alternate the order so neither server always runs on a warmer machine.
        for (const kind of run % 2 ? ['ws', 'wsgate'] : ['wsgate', 'ws']) results[kind].push(await fn(servers[kind].url, size));
      }
      const g = median(results.wsgate);
      const w = median(results.ws);
      rows.push({ name: `${mode}, ${size.label} (msg/s)`, wsgate: g.toFixed(0), ws: w.toFixed(0), ratio: (g / w).toFixed(2) });
    }
  }
  for (const { child } of Object.values(servers)) child.kill();

  const memory = { wsgate: [], ws: [] };
  for (let run = 0; run < RUNS; run++) {
    for (const kind of run % 2 ? ['ws', 'wsgate'] : ['wsgate', 'ws']) memory[kind].push(await idleMemory(kind));
  }
  const mg = median(memory.wsgate);
  const mw = median(memory.ws);
  rows.push({ name: `RSS per idle connection, ${IDLE} conns (KiB)`, wsgate: mg.toFixed(2), ws: mw.toFixed(2), ratio: (mw / mg).toFixed(2) });

  printTable(rows);
  console.log(`(ratio > 1: wsgate better; ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(0);
}
