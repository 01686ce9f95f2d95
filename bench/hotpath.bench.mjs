// The hot path, per message (npm run bench, or node bench/hotpath.bench.mjs): what one echoed message
// costs the server, for wsgate's JS echo (handlers/echo.mjs; `JS keeps`: the same without
// releasedMessages, bench/keeping-echo.mjs), wsgate's C echo (build/plugins/echo.so)
// — one process, `WebSocketWorkers 0`, started as bin/wsgate.js is (its shebang's node options apply;
// WSGATE_HOTPATH_WORKERS=1 for one worker process behind a supervisor instead) — and a `ws` echo
// server, in the same run. Load: the C
// closed-loop generator (wsload.c), WINDOW messages in flight per connection. `ws` is measured twice:
// with bufferutil (a dependency of wsgate, so `ws` finds it here) and without (WS_NO_BUFFER_UTIL=1:
// `ws` as installed alone, the baseline of issue 16's figures). A last row, `floor (C)`, is bench/floor-echo.c:
// one thread, epoll, one write per read and nothing else, what the kernel and this load leave for any
// server on this machine (its CPU and its latency spread). `floor (Node)` is bench/floor-echo-node.mjs:
// the least a Node server does per echo with wsgate's read path (one shared read buffer, bufferutil,
// a read's echoes under one cork, small ones merged), no WebSocket checks: what Node's own read and
// write path costs at each load. Reported per case,
// medians of WSGATE_BENCH_RUNS interleaved rounds of WSGATE_HOTPATH_SECONDS each: echoes/s, round-trip
// p50/p99, the server tree's CPU µs per echo (user + sys from /proc) and its write and read system
// calls per echo (/proc/PID/io syscw/syscr: exact, and the figure a noisy box does not move).
// On a shared 2-core machine trust CPU and syscalls per echo; throughput and latency vary by tens of %.
// C/JS: the C echo runs back to back with the JS echo, WSGATE_HOTPATH_PAIRS times in every round
// (which goes first alternating), and the ratio is the median of all those pairs' ratios (the ratio
// of the two medians follows it): one pair may be split by the box's drift, the median of many is not.
// WSGATE_HOTPATH_BEFORE=DIR adds the wsgate of another tree (e.g. the previous version, built from
// `git archive`) as `before JS`/`before C`, interleaved with the rest.
// Another echo server joins the table with WSGATE_HOTPATH_EXTRA='NAME=ws://127.0.0.1:PORT/PATH@PID[,…]'
// (e.g. an Apache with mod_websocket's echo plugin run by hand; PID = the parent of its tree).
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { buildWsload, measuredRun, median, spawnWsgate, startFloorEcho } from './server-load.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.WSGATE_HOTPATH_SECONDS ?? 2);
const WORKERS = Number(process.env.WSGATE_HOTPATH_WORKERS ?? 0);
/** Back-to-back JS/C pairs per round (C/JS is the median of all rounds' pairs). */
const PAIRS = Number(process.env.WSGATE_HOTPATH_PAIRS ?? 3);
const CASES = [
  { label: '32 B binary, 50 x 4', size: 32, connections: 50, window: 4 },
  { label: '32 B text, 50 x 4', size: 32, connections: 50, window: 4, text: true },
  { label: '1 KiB binary, 50 x 4', size: 1024, connections: 50, window: 4 },
  { label: '16 KiB binary, 4 x 4', size: 16 * 1024, connections: 4, window: 4 },
  { label: '16 KiB text, 4 x 4', size: 16 * 1024, connections: 4, window: 4, text: true },
  { label: '1 MiB binary, 2 x 2', size: 1024 * 1024, connections: 2, window: 2 },
].filter((c) => !process.env.WSGATE_HOTPATH_CASES || process.env.WSGATE_HOTPATH_CASES.split(',').some((s) => c.label.startsWith(s)));

if (process.argv[2] === '--ws-server') await wsServer();
else await main();

async function wsServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 33554432, perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  await new Promise((r) => wss.once('listening', r));
  process.on('disconnect', () => process.exit(0));
  process.send({ port: wss.address().port });
}

/** An echo server in a Node process of its own, `script args` (it sends { port } once listening). */
function forkEchoServer(script, args = [], env = process.env) {
  return new Promise((ok, fail) => {
    const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
    child.once('message', ({ port }) => ok({ pid: child.pid, port, stop: () => child.kill('SIGKILL') }));
    child.once('exit', (code) => fail(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
  });
}

/** A `ws` echo server; `jsMasking`: without bufferutil (WS_NO_BUFFER_UTIL), as `ws` runs where it is not installed. */
function startWs(jsMasking = false) {
  return forkEchoServer(self, ['--ws-server'], jsMasking ? { ...process.env, WS_NO_BUFFER_UTIL: '1' } : process.env);
}

/** bench/floor-echo-node.mjs. */
function startNodeFloor() {
  return forkEchoServer(join(dirname(self), 'floor-echo-node.mjs'));
}

/** One wsgate process (no workers) serving /echo (JS) and, when the plugin is built, /c (C echo). */
function startWsgate(withC, tree = root) {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-hotpath-'));
  const location = (path, handler) =>
    `<Location ${path}>\n  SetHandler websocket-handler\n  WebSocketHandler ${handler}\n  WebSocketOriginCheck Off\n` +
    `  WebSocketPingInterval 0\n  MaxMessageSize 33554432\n  WebSocketSendQueueLimit 268435456\n  WebSocketConnectionLog Off\n</Location>\n`;
  writeFileSync(
    join(dir, 'wsgate.conf'),
    `Listen 127.0.0.1:0\nLogLevel warn\nWebSocketWorkers ${WORKERS}\n` +
      location('/echo', join(tree, 'handlers/echo.mjs')) +
      (tree === root ? location('/echo-keep', join(root, 'bench/keeping-echo.mjs')) : '') +
      (withC ? location('/c', `${join(tree, 'build/plugins/echo.so')} echo_init`) : ''),
  );
  return spawnWsgate(tree, join(dir, 'wsgate.conf')).then(({ child, pid, port }) => ({ pid, port, stop: () => child.kill('SIGKILL') }));
}

/** WSGATE_HOTPATH_EXTRA entries: servers someone else started. */
function extraServers() {
  const spec = process.env.WSGATE_HOTPATH_EXTRA;
  if (!spec) return [];
  return spec.split(',').map((entry) => {
    const m = /^([^=]+)=ws:\/\/127\.0\.0\.1:(\d+)(\/[^@]*)@(\d+)$/.exec(entry.trim());
    if (!m) throw new Error(`WSGATE_HOTPATH_EXTRA: expected NAME=ws://127.0.0.1:PORT/PATH@PID, got '${entry}'`);
    return { name: m[1], server: { port: Number(m[2]), pid: Number(m[4]), stop: () => undefined }, path: m[3] };
  });
}

/** The median over pairs of `a[i][key] / b[i][key]`: the box's load drifts by tens of % within a
 *  run, far more than within the seconds between a pair's two runs, so a ratio of two servers
 *  measured back to back is the steadier figure (a ratio of medians may pair a fast minute of one
 *  with a slow one of the other). */
function pairedRatio(a, b, key) {
  return median(pairRatios(a, b, key));
}

function pairRatios(a, b, key) {
  return a.map((r, i) => r[key] / b[i][key]);
}

/** 'Q1–Q3' of the pairs' ratios: how far a single pair strays. */
function quartiles(ratios) {
  const sorted = [...ratios].sort((x, y) => x - y);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `${fmt(at(0.25), 2)}–${fmt(at(0.75), 2)}`;
}

function fmt(n, digits) {
  return n.toFixed(digits);
}

async function main() {
  const wsload = buildWsload();
  if (!wsload) throw new Error('hotpath bench needs a C compiler (cc) for bench/wsload.c');
  const withC = existsSync(join(root, 'build/plugins/echo.so'));
  const gate = await startWsgate(withC);
  const ws = await startWs();
  const wsJsMask = await startWs(true);
  const floor = await startFloorEcho();
  const nodeFloor = await startNodeFloor();
  const beforeTree = process.env.WSGATE_HOTPATH_BEFORE;
  const before = beforeTree ? await startWsgate(withC, resolve(beforeTree)) : undefined;
  const targets = [
    { name: 'wsgate JS', server: gate, path: '/echo' },
    { name: 'JS keeps', server: gate, path: '/echo-keep' },
    ...(withC ? [{ name: 'wsgate C', server: gate, path: '/c' }] : []),
    { name: 'ws', server: ws, path: '/' },
    { name: 'ws JS mask', server: wsJsMask, path: '/' },
    { name: 'floor (C)', server: floor, path: '/' },
    { name: 'floor (Node)', server: nodeFloor, path: '/' },
    ...(before ? [{ name: 'before JS', server: before, path: '/echo' }, ...(withC ? [{ name: 'before C', server: before, path: '/c' }] : [])] : []),
    ...extraServers(),
  ];
  // Run in turn; the two wsgate echoes as one unit (back to back).
  const units = targets.filter((t) => t.name !== 'wsgate C').map((t) => (t.name === 'wsgate JS' && withC ? [t, targets.find((u) => u.name === 'wsgate C')] : [t]));
  console.log(
    `node ${process.version}, ${availableParallelism()} cores; ${RUNS} interleaved rounds of ${SECONDS} s per case, medians; ` +
      `wsgate with WebSocketWorkers ${WORKERS}; load from wsload (C)${withC ? '' : '; no build/plugins/echo.so: C echo skipped'}`,
  );
  try {
    for (const c of CASES) {
      const results = new Map(targets.map((t) => [t.name, []]));
      for (let run = 0; run < RUNS; run++) {
        // Rotate the order so no server always runs first (on the coolest machine); the C echo
        // runs right before or after the JS echo (by turns), PAIRS times, so each pair's C/JS
        // compares the two under the same load of the box (see pairedRatio).
        for (let i = 0; i < units.length; i++) {
          const unit = units[(i + run) % units.length];
          for (let pair = 0; pair < (unit.length > 1 ? PAIRS : 1); pair++) {
            for (const t of (run + pair) % 2 === 0 ? unit : [...unit].reverse()) results.get(t.name).push(await measuredRun(wsload, t.server, t.path, c, SECONDS));
          }
        }
      }
      const med = (name, key) => median(results.get(name).map((r) => r[key]));
      const paired = (key) => pairedRatio(results.get('wsgate C'), results.get('wsgate JS'), key);
      const pairedQuartiles = (key) => quartiles(pairRatios(results.get('wsgate C'), results.get('wsgate JS'), key));
      console.log(`\n${c.label}`);
      console.log('  server        echoes/s   p50 µs   p99 µs   p99/p50   CPU µs/echo   vs ws   vs ws JS mask   writes/echo   reads/echo');
      for (const t of targets) {
        console.log(
          `  ${t.name.padEnd(12)} ${fmt(med(t.name, 'rate'), 0).padStart(9)} ${fmt(med(t.name, 'p50Us'), 0).padStart(8)} ${fmt(med(t.name, 'p99Us'), 0).padStart(8)}` +
            `   ${fmt(med(t.name, 'p99Us') / med(t.name, 'p50Us'), 1).padStart(7)}` +
            `   ${fmt(med(t.name, 'cpuUsPerEcho'), 2).padStart(11)}   ${fmt(med(t.name, 'cpuUsPerEcho') / med('ws', 'cpuUsPerEcho'), 2).padStart(5)}` +
            `   ${fmt(med(t.name, 'cpuUsPerEcho') / med('ws JS mask', 'cpuUsPerEcho'), 2).padStart(13)}` +
            `   ${fmt(med(t.name, 'writesPerEcho'), 3).padStart(11)}   ${fmt(med(t.name, 'readsPerEcho'), 3).padStart(10)}`,
        );
      }
      if (withC) {
        console.log(
          `  C/JS: echoes/s ${fmt(paired('rate'), 2)}, CPU per echo ${fmt(paired('cpuUsPerEcho'), 2)} (median of ${results.get('wsgate C').length} back-to-back pairs, ` +
            `quartiles ${pairedQuartiles('rate')}; ` +
            `ratio of the medians above: ${fmt(med('wsgate C', 'rate') / med('wsgate JS', 'rate'), 2)}, ${fmt(med('wsgate C', 'cpuUsPerEcho') / med('wsgate JS', 'cpuUsPerEcho'), 2)})`,
        );
      }
    }
  } finally {
    gate.stop();
    ws.stop();
    wsJsMask.stop();
    floor.stop();
    nodeFloor.stop();
    before?.stop();
  }
}
