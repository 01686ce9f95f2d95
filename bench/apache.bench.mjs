// Apache benchmark, against the compiled dist/ (npm run bench, or node bench/apache.bench.mjs):
// 32-byte echo round trips on one connection, one message in flight, to wsgate directly and
// through a private Apache httpd running the config `wsgate apache` generates, for each style.
// Same run, same `ws` client; medians of RUNS runs; ratio = through Apache / direct (1.0 = no cost).
import { spawn, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 5);
const ROUND_TRIPS = Number(process.env.WSGATE_BENCH_ROUND_TRIPS ?? 3000);
const APACHE = ['/usr/sbin/apache2', '/usr/sbin/httpd'].find((p) => existsSync(p));
const MODULES = '/usr/lib/apache2/modules';
const dist = (path) => pathToFileURL(resolve(root, 'dist', path)).href;

const STYLES = ['proxy', 'wstunnel', 'rewrite'];
/** The gateway serves /echo (direct) and /STYLE/echo (what each Apache style forwards). */
const PATHS = ['/echo', ...STYLES.map((style) => `/${style}/echo`)];

function benchConfig(port, paths) {
  const settings = {
    maxMessageSize: 33554432, supportDraft75: false, originCheck: 'off', trustedOrigins: [], maxConnections: 0,
    pingInterval: 30, handshakeTimeout: 10, closeTimeout: 5, sendQueueLimit: 16 * 1024 * 1024,
  };
  const main = { addresses: [], serverName: undefined, serverAliases: [], isMain: true, tls: false, loc: undefined };
  const loc = { file: join(root, 'bench', 'wsgate.conf'), line: 1, column: 1 };
  return {
    file: loc.file, serverRoot: root, listen: [{ host: '127.0.0.1', port, loc: undefined }], logLevel: 'silent',
    mainServer: main, virtualHosts: [], loadedModules: [], defines: {}, ignored: [],
    remoteIp: { header: undefined, trustedProxies: [] }, control: { socket: undefined, listen: undefined, token: undefined },
    endpoints: paths.map((path) => ({ vhost: main, match: { kind: 'prefix', path }, settings, loc,
      handler: { kind: 'js', path: resolve(root, 'handlers/echo.mjs'), exportName: undefined, loc } })),
  };
}

async function runGateway() {
  const { startGateway } = await import(dist('server/gateway.js'));
  const { pino } = await import('pino');
  const running = await startGateway(benchConfig(0, PATHS), { log: pino({ level: 'silent' }) });
  process.send({ port: running.addresses[0].port });
}

function startGateway() {
  return new Promise((ok, fail) => {
    const child = fork(self, ['--gateway'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', ({ port }) => ok({ child, port }));
    child.once('exit', (code) => fail(new Error(`gateway exited with ${code}`)));
  });
}

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** A private httpd (own ServerRoot, Listen, PidFile, ErrorLog) with the generated config. */
async function startApache(body) {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-httpd-'));
  symlinkSync(MODULES, join(dir, 'modules'));
  const port = await freePort();
  const user = process.getuid?.() === 0 ? ['User www-data', 'Group www-data'] : [];
  writeFileSync(join(dir, 'httpd.conf'), [
    `ServerRoot "${dir}"`, `DefaultRuntimeDir "${dir}"`, `PidFile "${dir}/httpd.pid"`, `ErrorLog "${dir}/error.log"`,
    ...user, 'LogLevel warn', `Listen 127.0.0.1:${port}`, 'ServerName 127.0.0.1',
    'LoadModule mpm_event_module modules/mod_mpm_event.so', 'LoadModule authz_core_module modules/mod_authz_core.so',
    'StartServers 1', 'ServerLimit 2', 'ThreadsPerChild 16', 'MaxRequestWorkers 32', 'MinSpareThreads 4', 'MaxSpareThreads 32',
    body,
  ].join('\n'));
  const child = spawn(APACHE, ['-d', dir, '-f', join(dir, 'httpd.conf'), '-DFOREGROUND'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/proxy/echo`);
      ws.once('open', () => { ws.terminate(); r(true); });
      ws.once('error', () => r(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function openClient(url) {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => ok(ws));
    ws.once('error', fail);
  });
}

/** ROUND_TRIPS sequential 32-byte echoes; returns round trips per second and the p50 in µs. */
async function roundTrips(url) {
  const ws = await openClient(url);
  const payload = Buffer.alloc(32, 0x61);
  const times = new Float64Array(ROUND_TRIPS);
  const started = process.hrtime.bigint();
  await new Promise((done, fail) => {
    let i = 0;
    let sentAt = process.hrtime.bigint();
    const timer = setTimeout(() => fail(new Error(`${url}: round trips timed out`)), 60_000);
    ws.on('message', () => {
      const now = process.hrtime.bigint();
      times[i++] = Number(now - sentAt) / 1e3;
      if (i === ROUND_TRIPS) { clearTimeout(timer); done(); return; }
      sentAt = now;
      ws.send(payload);
    });
    ws.send(payload);
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  ws.terminate();
  return { rate: ROUND_TRIPS / seconds, p50: median([...times]) };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main() {
  if (!APACHE || !existsSync(MODULES)) {
    console.log('apache bench skipped: apache2 is not installed');
    return;
  }
  const { generateApacheConfig } = await import(dist('apache/generate.js'));
  const { parseBackend } = await import(dist('apache/backend.js'));
  const gateway = await startGateway();
  const backend = parseBackend(`http://127.0.0.1:${gateway.port}`);
  const body = STYLES.map((style) => generateApacheConfig(benchConfig(gateway.port, [`/${style}/echo`]), { backend, style }).text).join('\n');
  const apache = await startApache(body);
  const cases = [{ name: 'direct', url: `ws://127.0.0.1:${gateway.port}/echo` },
    ...STYLES.map((style) => ({ name: `apache ${style}`, url: `ws://127.0.0.1:${apache.port}/${style}/echo` }))];
  const results = new Map(cases.map((c) => [c.name, []]));
  try {
    for (const c of cases) await roundTrips(c.url); // warm-up
    for (let run = 0; run < RUNS; run++) {
      for (const c of cases) results.get(c.name).push(await roundTrips(c.url));
    }
  } finally {
    await apache.stop();
    gateway.child.kill();
  }
  const direct = median(results.get('direct').map((r) => r.rate));
  console.log(`32-byte echo round trips, 1 connection, ${ROUND_TRIPS} per run, median of ${RUNS} runs (Apache ${spawnSync(APACHE, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].replace('Server version: ', '')})`);
  console.log(['case'.padEnd(16), 'round trips/s'.padStart(14), 'p50 µs'.padStart(8), 'ratio'.padStart(7)].join(' '));
  for (const c of cases) {
    const rate = median(results.get(c.name).map((r) => r.rate));
    const p50 = median(results.get(c.name).map((r) => r.p50));
    console.log([c.name.padEnd(16), rate.toFixed(0).padStart(14), p50.toFixed(1).padStart(8), (rate / direct).toFixed(2).padStart(7)].join(' '));
  }
}

if (process.argv[2] === '--gateway') await runGateway();
else await main();
