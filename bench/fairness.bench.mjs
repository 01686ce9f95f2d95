// Fairness under a bursting plugin (issue 14), against the compiled dist/ (npm run bench, or node
// bench/fairness.bench.mjs). One wsgate child serves test/fixtures/plugins/probe.c on /probe and the
// JS echo handler on /echo; 20 clients on /probe each send "burst:5000" (5,000 texts from
// on_message), read them all, and send the next, for WSGATE_FAIRNESS_SECONDS (default 5); a canary
// on /echo sends a 32-byte message every 10 ms (one in flight) and records its round trips.
// "before": the same with WSGATE_FAIRNESS_BEFORE=DIR, DIR being a build of the previous version
// (e.g. `git archive HEAD~1 | tar -x -C DIR`, node_modules linked, `node scripts/build.mjs` in DIR).
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const SECONDS = Number(process.env.WSGATE_FAIRNESS_SECONDS ?? 5);
const ATTACKERS = 20;

async function serve(distRoot, probeSo) {
  const { startGateway } = await import(pathToFileURL(join(distRoot, 'dist/server/gateway.js')).href);
  const { loadConfigText } = await import(pathToFileURL(join(distRoot, 'dist/config/load.js')).href);
  const { pino } = await import('pino');
  // Written as a user would (the tree's own parser fills in every other setting); the listener
  // comes from startGateway's default, port 0.
  const location = (path, handler) =>
    `<Location ${path}>\n  SetHandler websocket-handler\n  WebSocketHandler ${handler}\n  WebSocketOriginCheck Off\n` +
    `  WebSocketPingInterval 0\n  MaxMessageSize 33554432\n  WebSocketSendQueueLimit 16777216\n  WebSocketConnectionLog Off\n</Location>\n`;
  const text = `Listen 127.0.0.1:0\n${location('/probe', `${probeSo} probe_init`)}${location('/echo', join(root, 'handlers/echo.mjs'))}`;
  const { config, diagnostics } = loadConfigText(text, join(root, 'fairness.conf'));
  if (diagnostics.some((d) => d.severity === 'error')) throw new Error(`bench config: ${JSON.stringify(diagnostics)}`);
  const running = await startGateway(config, { log: pino({ level: 'silent' }) });
  // As `wsgate serve` does once it serves (src/server/malloc-tuning.ts; a "before" build older than
  // that file runs without).
  const tuning = join(distRoot, 'dist/server/malloc-tuning.js');
  if (existsSync(tuning)) (await import(pathToFileURL(tuning).href)).tuneMalloc();
  process.send({ port: running.addresses[0].port });
}

function open(url) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function measure(distRoot, probeSo) {
  const child = fork(self, ['--server', distRoot, probeSo], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await new Promise((ok) => child.once('message', ok));
  const base = `ws://127.0.0.1:${port}`;
  const canary = await open(`${base}/echo`);
  const attackers = await Promise.all(Array.from({ length: ATTACKERS }, () => open(`${base}/probe`)));
  const deadline = Date.now() + SECONDS * 1000;
  let received = 0;
  const attacks = attackers.map((ws) => new Promise((done) => {
    let left = 5000;
    ws.on('message', () => {
      received++;
      if (--left > 0) return;
      left = 5000;
      if (Date.now() < deadline) ws.send('burst:5000');
      else done();
    });
    ws.send('burst:5000');
  }));
  const times = [];
  let sentAt = 0;
  let inFlight = false;
  canary.on('message', () => {
    times.push(performance.now() - sentAt);
    inFlight = false;
  });
  const timer = setInterval(() => {
    if (inFlight) return;
    inFlight = true;
    sentAt = performance.now();
    canary.send('canary-canary-canary-canary-0123');
  }, 10);
  await Promise.all(attacks);
  clearInterval(timer);
  for (const ws of [canary, ...attackers]) ws.terminate();
  child.kill();
  const sorted = times.sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1], echoes: sorted.length, perSecond: received / SECONDS };
}

async function main() {
  const built = spawnSync(process.execPath, [join(root, 'scripts/build-native.mjs'), '--quiet'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('build-native failed');
  const probeSo = join(mkdtempSync(join(tmpdir(), 'wsgate-fairness-bench-')), 'probe.so');
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-pthread', `-I${join(root, 'handlers/include')}`, '-o', probeSo, join(root, 'test/fixtures/plugins/probe.c')], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`cc probe.c failed: ${cc.stderr}`);
  const rows = [];
  const before = process.env.WSGATE_FAIRNESS_BEFORE;
  if (before) rows.push(['before', await measure(resolve(before), probeSo)]);
  rows.push(['after (this build)', await measure(root, probeSo)]);
  const ms = (v) => `${v.toFixed(1)} ms`;
  console.log(`\n| canary echo while ${ATTACKERS} connections of one plugin burst (${SECONDS} s) | p50 | p99 | max | canary echoes | burst messages/s |`);
  console.log('|---|---|---|---|---|---|');
  for (const [label, r] of rows) console.log(`| ${label} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.echoes} | ${Math.round(r.perSecond).toLocaleString('en-US')} |`);
}

if (process.argv[2] === '--server') await serve(process.argv[3], process.argv[4]);
else await main();
