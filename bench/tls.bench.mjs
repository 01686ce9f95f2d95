// wss:// echo benchmark, run against the compiled dist/ (npm run bench, or node bench/tls.bench.mjs):
// wsgate terminating TLS itself (`Listen … https`, an SSLEngine vhost, the JS echo handler) against a
// `ws` WebSocketServer on a node https.Server, same certificate (P-256, made with `openssl`), same
// clients (`ws` over TLS): 1 connection sequential and 20 connections pipelined, 32 B and 16 KiB.
// Each server runs in its own child process. Medians of RUNS runs; ratio = wsgate/ws (> 1: wsgate faster).
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 5);
const SIZES = [
  { label: '32 B', bytes: 32, sequential: 3000, pipelined: 1000 },
  { label: '16 KiB', bytes: 16 * 1024, sequential: 1000, pipelined: 100 },
];
const CONNECTIONS = 20;

if (process.argv[2] === '--server') await runServer(process.argv[3], process.argv[4]);
else await main();

async function runServer(kind, dir) {
  let port;
  if (kind === 'wsgate') {
    const { loadConfig } = await import(pathToFileURL(resolve(root, 'dist/config/load.js')).href);
    const { startGateway } = await import(pathToFileURL(resolve(root, 'dist/server/gateway.js')).href);
    const { pino } = await import('pino');
    const { config, diagnostics } = loadConfig(join(dir, 'wsgate.conf'));
    if (diagnostics.some((d) => d.severity === 'error')) throw new Error(JSON.stringify(diagnostics));
    const running = await startGateway(config, { log: pino({ level: 'silent' }) });
    port = running.addresses[0].port;
  } else {
    const server = createServer({ cert: readFileSync(join(dir, 'site.crt')), key: readFileSync(join(dir, 'site.key')) });
    const wss = new WebSocketServer({ server, maxPayload: 33554432 });
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  }
  process.on('disconnect', () => process.exit(0));
  process.send({ port });
}

function startServer(kind, dir) {
  return new Promise((ok, fail) => {
    const child = fork(self, ['--server', kind, dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', ({ port }) => ok({ child, url: `wss://127.0.0.1:${port}/echo` }));
    child.once('exit', (code) => fail(new Error(`${kind} server exited with ${code}`)));
  });
}

function openClient(url, ca) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { ca, perMessageDeflate: false, maxPayload: 33554432 });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

/** n round trips, one at a time. Returns messages per second. */
async function sequential(url, ca, payload, n) {
  const ws = await openClient(url, ca);
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    await new Promise((r) => {
      ws.once('message', r);
      ws.send(payload);
    });
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  ws.terminate();
  return n / seconds;
}

/** CONNECTIONS clients each send n messages at once and wait for all echoes. Messages per second. */
async function pipelined(url, ca, payload, n) {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => openClient(url, ca)));
  const start = process.hrtime.bigint();
  await Promise.all(
    clients.map(
      (ws) =>
        new Promise((r) => {
          let got = 0;
          ws.on('message', () => ++got === n && r());
          for (let i = 0; i < n; i++) ws.send(payload);
        }),
    ),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const ws of clients) ws.terminate();
  return (n * CONNECTIONS) / seconds;
}

function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-tls-bench-'));
  try {
    const ossl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ossl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'site.key', '-out', 'site.crt', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1']);
    writeFileSync(
      join(dir, 'wsgate.conf'),
      ['Listen 127.0.0.1:0 https', 'WebSocketWorkers 0', 'LogLevel error', 'SSLEngine on', 'SSLCertificateFile site.crt', 'SSLCertificateKeyFile site.key',
        'WebSocketOriginCheck Off', 'WebSocketPingInterval 0', 'WebSocketSendQueueLimit 268435456', '<Location /echo>', '  SetHandler websocket-handler',
        `  WebSocketHandler ${resolve(root, 'handlers/echo.mjs')}`, '</Location>', ''].join('\n'),
    );
    const ca = readFileSync(join(dir, 'site.crt'));
    const servers = { wsgate: await startServer('wsgate', dir), ws: await startServer('ws', dir) };
    console.log(`wss echo (TLS in the server, P-256 certificate), medians of ${RUNS} runs, messages/s; ratio = wsgate/ws`);
    console.log('| case | wsgate | ws (https) | ratio |');
    console.log('|---|---|---|---|');
    for (const size of SIZES) {
      const payload = Buffer.alloc(size.bytes, 0x61);
      for (const [name, run, n] of [['1 conn sequential', sequential, size.sequential], [`${CONNECTIONS} conns pipelined`, pipelined, size.pipelined]]) {
        const results = { wsgate: [], ws: [] };
        for (let i = 0; i < RUNS; i++) {
          for (const kind of ['wsgate', 'ws']) results[kind].push(await run(servers[kind].url, ca, payload, n));
        }
        const a = median(results.wsgate);
        const b = median(results.ws);
        console.log(`| ${size.label}, ${name} | ${Math.round(a)} | ${Math.round(b)} | ${(a / b).toFixed(2)} |`);
      }
    }
    for (const { child } of Object.values(servers)) child.kill();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
