// permessage-deflate benchmark, run against the compiled dist/ (npm run bench, or node
// bench/compression.bench.mjs), wsgate against a `ws` WebSocketServer in the same run:
//  - echo of a 16 KiB JSON document, compressed and uncompressed: messages per second and bytes on
//    the wire per round trip (both directions, frames included), for 1 connection one message at a
//    time and 20 connections with 50 messages in flight each. The client is `ws` with its default
//    permessage-deflate offer (threshold 0), for both servers; a server without compression declines it.
//  - RSS per idle compressed connection with 10,000 connections: right after the handshake, and
//    after each connection sent one compressed 2 KiB message and got its compressed echo.
// Servers: wsgate with `WebSocketCompression On` (its defaults: no context takeover, threshold
// 1024), also with `WebSocketCompressionContextTakeover On` (the same parameters as ws: the client
// then keeps context too, and does less work), or Off; ws with `perMessageDeflate: true` (its
// defaults: context takeover, threshold 1024) or false. Each server runs in its own child process, the idle clients in another.
import { fork, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { deflateRawSync, constants } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 3);
const IDLE = Number(process.env.WSGATE_BENCH_IDLE ?? 10_000);
const SEQUENTIAL = 1000;
const CONCURRENT = { connections: 20, messages: 50 };
const CASE_TIMEOUT_MS = 60_000;

/** A JSON document of `bytes` bytes: an array of records, as a feed or an API answer would send.
 *  Each `variant` has other values (a server keeping context cannot just point at the last one). */
function jsonDocument(bytes, variant = 0) {
  const rows = [];
  let length = 2;
  for (let i = 0; length < bytes; i++) {
    const n = i + variant * 1009;
    const row = JSON.stringify({ id: 100000 + n, user: `user${(n * 7919) % 1000}`, online: n % 3 === 0, score: ((n * 37) % 1000) / 10, tags: ['news', `topic-${n % 12}`] });
    rows.push(row);
    length += row.length + 1;
  }
  let text = `[${rows.join(',')}]`;
  while (text.length > bytes) {
    rows.pop();
    text = `[${rows.join(',')}]`;
  }
  return Buffer.from(text.padEnd(bytes, ' '));
}
const DOCUMENTS = Array.from({ length: 64 }, (_, variant) => jsonDocument(16 * 1024, variant));
const DOCUMENT_BYTES = DOCUMENTS[0].length;

const role = process.argv[2];
if (role === '--server') await runServer(process.argv[3], process.argv[4] !== 'off', process.argv[4] === 'takeover');
else if (role === '--idle-clients') await runIdleClients(Number(process.argv[3]), Number(process.argv[4]), process.argv[5] === 'message');
else if (process.env.WSGATE_COMPRESSION_BENCH_NOFILE === undefined) rerunWithFileLimit();
else await main();

function rerunWithFileLimit() {
  const script = 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; WSGATE_COMPRESSION_BENCH_NOFILE="$(ulimit -n)" exec "$0" "$@"';
  const child = spawn('/bin/sh', ['-c', script, process.execPath, self], { stdio: 'inherit' });
  child.once('exit', (code) => process.exit(code ?? 1));
}

// ---------------------------------------------------------------- server child

async function runServer(kind, compression, contextTakeover) {
  let port;
  if (kind === 'wsgate') {
    const { startGateway } = await import(pathToFileURL(resolve(root, 'dist/server/gateway.js')).href);
    const { defaultEndpointSettings } = await import(pathToFileURL(resolve(root, 'dist/config/schema.js')).href);
    const { pino } = await import('pino');
    const settings = { ...defaultEndpointSettings(), originCheck: 'off', pingInterval: 0, connectionLog: false, sendQueueLimit: 256 * 1024 * 1024, compression, compressionContextTakeover: contextTakeover };
    const main = { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };
    const loc = { file: 'bench', line: 1, column: 1 };
    const config = {
      file: 'bench', serverRoot: root, listen: [{ host: '127.0.0.1', port: 0, loc: undefined }], logLevel: 'silent',
      mainServer: main, virtualHosts: [], loadedModules: [], defines: {}, ignored: [],
      remoteIp: { header: undefined, trustedProxies: [] }, control: { socket: undefined, listen: undefined, token: undefined },
      processes: { workers: 0, reloadDeadline: 60, pidFile: undefined },
      endpoints: [{ vhost: main, match: { kind: 'prefix', path: '/echo' }, settings, loc,
        handler: { kind: 'js', path: resolve(root, 'handlers/echo.mjs'), exportName: undefined, loc } }],
    };
    const running = await startGateway(config, { log: pino({ level: 'silent' }) });
    port = running.addresses[0].port;
  } else {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 33554432, perMessageDeflate: compression });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise((r) => wss.once('listening', r));
    port = wss.address().port;
  }
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg) => {
    if (msg === 'rss') {
      globalThis.gc?.();
      globalThis.gc?.();
      setTimeout(() => process.send({ rss: process.memoryUsage().rss }), 300);
    }
  });
  process.send({ port });
}

/** compression: 'off', 'on' (each server's defaults) or 'takeover' (wsgate with context takeover too). */
function startServer(kind, compression) {
  return new Promise((ok, fail) => {
    const child = fork(self, ['--server', kind, compression], { execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', ({ port }) => ok({ child, port, url: `ws://127.0.0.1:${port}/echo` }));
    child.once('exit', (code) => fail(new Error(`${kind} server exited with ${code}`)));
  });
}

function ask(child, question) {
  return new Promise((r) => {
    child.once('message', r);
    child.send(question);
  });
}

async function stop(server) {
  server.child.kill();
  await new Promise((r) => server.child.once('exit', r));
}

// ---------------------------------------------------------------- idle clients child

/** A masked client frame with RSV1: a 2 KiB JSON document deflated (RFC 7692 §7.2.1). */
function compressedFrame() {
  const deflated = deflateRawSync(jsonDocument(2048), { finishFlush: constants.Z_SYNC_FLUSH }).subarray(0, -4);
  const mask = randomBytes(4);
  const head = deflated.length < 126 ? Buffer.from([0xc1, 0x80 | deflated.length]) : Buffer.from([0xc1, 0x80 | 126, deflated.length >> 8, deflated.length & 0xff]);
  const body = Buffer.from(deflated.map((b, i) => b ^ mask[i & 3]));
  return Buffer.concat([head, mask, body]);
}

/** Opens n connections that offer permessage-deflate (and, with `message`, exchange one compressed
 *  message each), reports, then stays idle. */
async function runIdleClients(port, n, message) {
  const sockets = [];
  const request =
    'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n';
  const frame = compressedFrame();
  let compressedAnswers = 0;
  const openOne = () =>
    new Promise((ok, fail) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', fail);
      socket.once('data', (d) => {
        const head = d.toString('latin1');
        if (!head.startsWith('HTTP/1.1 101') || !/permessage-deflate/i.test(head)) return fail(new Error('no 101 with permessage-deflate'));
        if (!message) return ok(socket);
        socket.write(frame);
        socket.once('data', (echo) => {
          if ((echo[0] & 0x40) !== 0) compressedAnswers++;
          ok(socket);
        });
      });
      socket.write(request);
    });
  const BATCH = 200;
  for (let i = 0; i < n; i += BATCH) sockets.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, openOne))));
  process.send({ open: sockets.length, compressedAnswers });
  process.on('disconnect', () => process.exit(0));
}

async function idleMemory(kind, message) {
  const server = await startServer(kind, 'on');
  const before = (await ask(server.child, 'rss')).rss;
  const clients = fork(self, ['--idle-clients', String(server.port), String(IDLE), message ? 'message' : 'idle'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { open, compressedAnswers } = await withTimeout(new Promise((r) => clients.once('message', r)), 'idle clients');
  if (message && compressedAnswers !== open) throw new Error(`${kind}: ${open - compressedAnswers} echoes were not compressed`);
  await new Promise((r) => setTimeout(r, 300));
  const after = (await ask(server.child, 'rss')).rss;
  await stop(server);
  clients.kill();
  await new Promise((r) => clients.once('exit', r));
  return (after - before) / open / 1024;
}

// ---------------------------------------------------------------- echo (this process)

function openClient(url) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 }, maxPayload: 33554432 });
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

function wireBytes(clients) {
  return clients.reduce((n, ws) => n + ws._socket.bytesRead + ws._socket.bytesWritten, 0);
}

/** `connections` clients, each keeping `inFlight` messages outstanding until `total` came back. */
async function echo(url, connections, inFlight, total) {
  const clients = await Promise.all(Array.from({ length: connections }, () => openClient(url)));
  const compressed = clients[0].extensions.includes('permessage-deflate');
  const wireBefore = wireBytes(clients);
  const started = process.hrtime.bigint();
  await withTimeout(
    Promise.all(
      clients.map(
        (ws) =>
          new Promise((done, fail) => {
            let left = total;
            let sent = 0;
            ws.on('message', (data) => {
              if (data.length !== DOCUMENT_BYTES) fail(new Error(`echo of ${data.length} bytes`));
              if (--left === 0) done();
              else if (sent < total) ws.send(DOCUMENTS[sent++ % DOCUMENTS.length], { binary: false });
            });
            for (; sent < Math.min(inFlight, total); sent++) ws.send(DOCUMENTS[sent % DOCUMENTS.length], { binary: false });
          }),
      ),
    ),
    'echo',
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const wire = (wireBytes(clients) - wireBefore) / (connections * total);
  for (const ws of clients) ws.terminate();
  return { rate: (connections * total) / seconds, wire, compressed };
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
  const nofile = Number(process.env.WSGATE_COMPRESSION_BENCH_NOFILE);
  if (nofile < IDLE + 256) console.log(`note: file descriptor limit ${nofile} is too low for ${IDLE} idle connections; raise it (ulimit -n)`);
  console.log(`compression bench: 16 KiB JSON echo, wsgate (WebSocketCompression On/Off) vs ws ${(await import('ws/package.json', { with: { type: 'json' } })).default.version} (perMessageDeflate true/false), median of ${RUNS} runs, node ${process.version}`);
  const rows = [];
  const modes = [
    ['1 conn sequential', (url) => echo(url, 1, 1, SEQUENTIAL)],
    [`${CONCURRENT.connections} conns × ${CONCURRENT.messages} in flight`, (url) => echo(url, CONCURRENT.connections, CONCURRENT.messages, CONCURRENT.messages * 4)],
  ];
  const labels = { on: 'compressed', takeover: 'compressed, both keep context', off: 'uncompressed' };
  for (const setting of ['on', 'takeover', 'off']) {
    const compression = setting !== 'off';
    const servers = { wsgate: await startServer('wsgate', setting), ws: await startServer('ws', setting) };
    const label = labels[setting];
    for (const [mode, fn] of modes) {
      const results = { wsgate: [], ws: [] };
      for (const kind of ['wsgate', 'ws']) await fn(servers[kind].url); // warm-up
      for (let run = 0; run < RUNS; run++) {
        for (const kind of run % 2 ? ['ws', 'wsgate'] : ['wsgate', 'ws']) results[kind].push(await fn(servers[kind].url));
      }
      for (const kind of ['wsgate', 'ws']) {
        if (results[kind].some((r) => r.compressed !== compression)) throw new Error(`${kind}: compression ${compression ? 'not negotiated' : 'negotiated'}`);
      }
      const g = median(results.wsgate.map((r) => r.rate));
      const w = median(results.ws.map((r) => r.rate));
      rows.push({ name: `${label}, ${mode} (msg/s)`, wsgate: g.toFixed(0), ws: w.toFixed(0), ratio: (g / w).toFixed(2) });
      const gw = median(results.wsgate.map((r) => r.wire));
      const ww = median(results.ws.map((r) => r.wire));
      rows.push({ name: `${label}, ${mode} (wire bytes per round trip)`, wsgate: gw.toFixed(0), ws: ww.toFixed(0), ratio: (ww / gw).toFixed(2) });
    }
    for (const server of Object.values(servers)) await stop(server);
  }

  for (const [message, label] of [[false, 'after the handshake'], [true, 'after one compressed message each way']]) {
    const memory = { wsgate: [], ws: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const kind of run % 2 ? ['ws', 'wsgate'] : ['wsgate', 'ws']) memory[kind].push(await idleMemory(kind, message));
    }
    const mg = median(memory.wsgate);
    const mw = median(memory.ws);
    rows.push({ name: `RSS per idle compressed connection, ${IDLE} conns, ${label} (KiB)`, wsgate: mg.toFixed(2), ws: mw.toFixed(2), ratio: (mw / mg).toFixed(2) });
  }

  printTable(rows);
  console.log(`(ratio > 1: wsgate better; ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  process.exit(0);
}
