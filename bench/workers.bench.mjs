// Worker processes (npm run bench, or node bench/workers.bench.mjs): `wsgate serve` with 1 worker,
// with `auto` workers (one per core), and a `ws` echo server, in the same run, each a real process
// tree. Load: the raw pipelining client (raw-pipeline.mjs) with a window of in-flight messages per
// connection, closed loop: every echo that comes back lets the next message go. Reported: echoes/s
// (median of WSGATE_BENCH_RUNS rounds, interleaved), the ratio to `ws`, and the server's CPU time
// per echo (user + sys of the whole process tree from /proc over the round), which a noisy box
// disturbs far less than throughput. Then a broadcast of 64 B to 10,000 connections spread over the
// workers: time until the last client has it. The echo load comes from bench/wsload.c (compiled here
// with cc), which costs far less CPU than a Node client; without cc, the raw Node client is used.
import { fork } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { withRaisedFileLimit } from './file-limit.mjs';
import { buildBurst, openRaw } from './raw-pipeline.mjs';
import { buildWsload, measuredRun, median, spawnWsgate, treeCpuMs } from './server-load.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.WSGATE_WORKERS_BENCH_SECONDS ?? 3);
const BROADCAST_CONNECTIONS = Number(process.env.WSGATE_WORKERS_BENCH_BROADCAST ?? 10_000);
const CASES = [
  { label: '32 B, 50 conns x 4 in flight', size: 32, connections: 50, window: 4 },
  { label: '16 KiB, 4 conns x 4 in flight', size: 16 * 1024, connections: 4, window: 4 },
];

if (process.argv[2] === '--ws-server') await wsServer();
else if (withRaisedFileLimit(self, 'WSGATE_WORKERS_BENCH_NOFILE')) await main();


async function wsServer() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 33554432, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    if (req.url === '/echo') ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  await new Promise((r) => wss.once('listening', r));
  process.on('message', (m) => {
    if (m.broadcast) {
      const started = process.hrtime.bigint();
      for (const ws of wss.clients) ws.send(m.broadcast);
      process.send({ sentNs: Number(process.hrtime.bigint() - started) });
    }
  });
  process.send({ port: wss.address().port });
}

// ---------------------------------------------------------------- servers

function startWs() {
  return new Promise((ok, fail) => {
    const child = fork(self, ['--ws-server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', ({ port }) => ok({ name: 'ws', pid: child.pid, port, child, stop: () => child.kill('SIGKILL') }));
    child.once('exit', (code) => fail(new Error(`ws server exited with ${code}`)));
  });
}

function startWsgate(workers) {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-workers-'));
  const socket = join(dir, 'control.sock');
  writeFileSync(
    join(dir, 'wsgate.conf'),
    `Listen 127.0.0.1:0\nLogLevel warn\nWebSocketWorkers ${workers}\nWebSocketControlSocket ${socket}\n` +
      `<Location /echo>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(root, 'handlers/echo.mjs')}\n` +
      `  WebSocketOriginCheck Off\n  WebSocketPingInterval 0\n  WebSocketSendQueueLimit 268435456\n  WebSocketConnectionLog Off\n</Location>\n`,
  );
  const name = `wsgate, ${workers === 'auto' ? `auto (${availableParallelism()})` : workers} worker${workers === 1 ? '' : 's'}`;
  return spawnWsgate(root, join(dir, 'wsgate.conf')).then(({ child, pid, port }) => ({ name, pid, port, socket, child, stop: () => child.kill('SIGKILL') }));
}

// ---------------------------------------------------------------- measuring

/** Closed loop: each connection keeps `window` messages in flight for `seconds`; returns echoes. */
function closedLoop(sockets, size, window, seconds) {
  const frame = buildBurst(size, 1);
  const echoBytes = frame.echoBytes;
  const deadline = Date.now() + seconds * 1000;
  return new Promise((done) => {
    let echoes = 0;
    let running = sockets.length;
    for (const socket of sockets) {
      let pending = 0; // bytes of the current partial echo frame
      let inFlight = window;
      const onData = (chunk) => {
        pending += chunk.length;
        let back = 0;
        while (pending >= echoBytes) {
          pending -= echoBytes;
          back++;
        }
        echoes += back;
        inFlight -= back;
        if (Date.now() < deadline) {
          const more = window - inFlight;
          if (more > 0) socket.write(more === 1 ? frame.data : Buffer.concat(Array(more).fill(frame.data)));
          inFlight = window;
        } else if (inFlight === 0) {
          socket.off('data', onData);
          if (--running === 0) done(echoes);
        }
      };
      socket.on('data', onData);
      socket.write(Buffer.concat(Array(window).fill(frame.data)));
    }
  });
}

async function echoRound(server, c, wsload) {
  if (wsload) {
    const { rate, cpuUsPerEcho } = await measuredRun(wsload, server, '/echo', c, SECONDS);
    return { rate, cpuUsPerEcho };
  }
  const sockets = await Promise.all(Array.from({ length: c.connections }, () => openRaw(`ws://127.0.0.1:${server.port}/echo`)));
  await closedLoop(sockets, c.size, c.window, 0.5); // warm-up
  const cpu0 = treeCpuMs(server.pid);
  const t0 = process.hrtime.bigint();
  const echoes = await closedLoop(sockets, c.size, c.window, SECONDS);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuMs = treeCpuMs(server.pid) - cpu0;
  for (const s of sockets) s.destroy();
  return { rate: echoes / seconds, cpuUsPerEcho: (cpuMs * 1000) / echoes };
}

/** Opens n raw connections; resolves with them and a function that waits for one 64 B text frame on each. */
async function broadcastClients(port, n) {
  const sockets = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, () => openRaw(`ws://127.0.0.1:${port}/echo`)));
    sockets.push(...batch);
  }
  const frameBytes = 2 + 64;
  const arrived = () =>
    Promise.all(
      sockets.map(
        (s) =>
          new Promise((ok) => {
            let got = 0;
            const onData = (chunk) => {
              got += chunk.length;
              if (got >= frameBytes) {
                s.off('data', onData);
                ok();
              }
            };
            s.on('data', onData);
          }),
      ),
    );
  return { sockets, arrived };
}

function controlBroadcast(socketPath, text) {
  return new Promise((ok, fail) => {
    const s = connect(socketPath);
    let answer = '';
    s.on('data', (d) => {
      answer += d;
      if (answer.endsWith('\n')) {
        s.end();
        ok(answer.trim());
      }
    });
    s.once('error', fail);
    s.write(`BROADCAST ${text}\n`);
  });
}

async function broadcastRound(server) {
  const { sockets, arrived } = await broadcastClients(server.port, BROADCAST_CONNECTIONS);
  const message = 'b'.repeat(64);
  const all = arrived();
  const t0 = process.hrtime.bigint();
  if (server.socket) {
    const answer = await controlBroadcast(server.socket, message);
    if (answer !== `OK SENT ${BROADCAST_CONNECTIONS}`) throw new Error(`broadcast answered ${answer}`);
  } else {
    server.child.send({ broadcast: message });
  }
  await all;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  for (const s of sockets) s.destroy();
  return ms;
}

async function main() {
  const wsload = buildWsload();
  console.log(`node ${process.version}, ${availableParallelism()} cores; ${RUNS} interleaved rounds of ${SECONDS} s per case; medians; load from ${wsload ? 'wsload (C)' : 'the raw Node client (no cc)'}`);
  const servers = [await startWsgate(0), await startWsgate(1), await startWsgate('auto'), await startWs()];
  try {
    for (const c of CASES) {
      const results = new Map(servers.map((s) => [s.name, []]));
      for (let run = 0; run < RUNS; run++) for (const s of servers) results.get(s.name).push(await echoRound(s, c, wsload));
      const wsRate = median(results.get('ws').map((r) => r.rate));
      console.log(`\necho ${c.label}`);
      console.log('  server                      echoes/s   vs ws   server CPU per echo');
      for (const s of servers) {
        const rate = median(results.get(s.name).map((r) => r.rate));
        const cpu = median(results.get(s.name).map((r) => r.cpuUsPerEcho));
        console.log(`  ${s.name.padEnd(26)} ${rate.toFixed(0).padStart(9)}   ${(rate / wsRate).toFixed(2).padStart(5)}   ${cpu.toFixed(1).padStart(6)} µs`);
      }
    }
    console.log(`\nbroadcast of 64 B to ${BROADCAST_CONNECTIONS} connections (control socket for wsgate, wss.clients loop for ws): ms until the last client has it`);
    for (const s of servers) {
      const times = [];
      for (let run = 0; run < RUNS; run++) times.push(await broadcastRound(s));
      console.log(`  ${s.name.padEnd(26)} ${median(times).toFixed(1).padStart(8)} ms`);
    }
  } finally {
    for (const s of servers) s.stop();
  }
}
