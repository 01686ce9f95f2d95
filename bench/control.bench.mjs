// Control channel benchmark, run against the compiled dist/ (npm run bench, or node bench/control.bench.mjs):
//  1. broadcast one 64-byte message to 10,000 connections: time until the last client has it,
//     via the control socket (BROADCAST), via gateway.broadcast() in-process, and a `ws` server
//     looping over its clients (the baseline: ws has no push channel of its own); and the longest
//     event-loop turn of the gateway process meanwhile (what a broadcast adds to everyone's latency);
//  2. SEND throughput over the control socket to 100 connections, pipelined (messages/s, counted
//     when the clients have received them).
// The clients live in a child process (this file with --clients); the gateway, the ws baseline
// and the control client live in the parent. Medians over rounds are printed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { gatewayConfig, median, openConversation, startClientProcess } from './control-clients.mjs';
import { withRaisedFileLimit } from './file-limit.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const CONNECTIONS = Number(process.env.WSGATE_BENCH_CONNECTIONS ?? 10_000);
const BROADCAST_ROUNDS = Number(process.env.WSGATE_BENCH_ROUNDS ?? 15);
const SEND_CONNECTIONS = 100;
const SEND_MESSAGES = 50_000;
const SEND_RUNS = 5;
const ROUND_TIMEOUT_MS = 30_000;
const MESSAGE = 'x'.repeat(64);

if (process.argv[2] === '--clients') runClients();
else if (withRaisedFileLimit(self, 'WSGATE_BENCH_NOFILE')) await main();

/** 10,000 sockets on each side need more than the usual 1024 descriptors: re-run under a shell
 *  that raised the soft limit to the hard one. */

async function main() {
  const limit = Number(process.env.WSGATE_BENCH_NOFILE);
  const connections = Number.isFinite(limit) && limit < CONNECTIONS + 512 ? Math.max(100, limit - 512) : CONNECTIONS;
  if (connections !== CONNECTIONS) console.log(`control: open-file limit ${limit}: using ${connections} connections instead of ${CONNECTIONS}`);
  const { startGateway } = await import(join(root, 'dist/server/gateway.js'));
  const { startControl } = await import(join(root, 'dist/control/index.js'));
  const { pino } = await import('pino');
  const log = pino({ level: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-'));
  const socketPath = join(dir, 'control.sock');
  const config = await gatewayConfig(socketPath);
  const gw = await startGateway(config, { log, listen: [{ host: '127.0.0.1', port: 0, loc: undefined }] });
  const control = await startControl(config.control, gw.registry, log);
  const clients = startClientProcess(ROUND_TIMEOUT_MS * 4);
  try {
    const gwUrl = `ws://127.0.0.1:${gw.addresses[0].port}/bench`;
    await clients.call({ cmd: 'open', url: gwUrl, count: connections, ids: true });
    const viaSocket = await timeRounds(clients, connections, controlBroadcaster(socketPath));
    const inProcess = await timeRounds(clients, connections, async () => gw.gateway.broadcast(MESSAGE, { location: '/bench' }));
    await clients.call({ cmd: 'close' });

    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => wss.once('listening', r));
    await clients.call({ cmd: 'open', url: `ws://127.0.0.1:${wss.address().port}/bench`, count: connections, ids: false });
    const baseline = await timeRounds(clients, connections, async () => {
      for (const ws of wss.clients) ws.send(MESSAGE);
    });
    await clients.call({ cmd: 'close' });
    await new Promise((r) => wss.close(r));

    const mSocket = median(viaSocket.last);
    const mBaseline = median(baseline.last);
    const ms = (v) => `${v.toFixed(1).padStart(7)} ms`;
    console.log(`control: broadcast of one 64-byte message to ${connections} connections, median of ${BROADCAST_ROUNDS} rounds`);
    console.log('                                           last client has it   broadcast call returned   longest event-loop turn');
    console.log(`  wsgate, BROADCAST on the control socket  ${ms(mSocket)}           ${ms(median(viaSocket.call))}                ${ms(median(viaSocket.block))} (call: until OK SENT received)`);
    console.log(`  wsgate, gateway.broadcast() in-process   ${ms(median(inProcess.last))}           ${ms(median(inProcess.call))}                ${ms(median(inProcess.block))}`);
    console.log(`  ws, server loop over its clients         ${ms(mBaseline)}           ${ms(median(baseline.call))}                ${ms(median(baseline.block))}`);
    console.log(`  ratio wsgate(control socket)/ws, last client = ${(mSocket / mBaseline).toFixed(2)}; in-process call/ws loop = ${(median(inProcess.call) / median(baseline.call)).toFixed(2)} (below 1: wsgate faster)`);

    await clients.call({ cmd: 'open', url: gwUrl, count: SEND_CONNECTIONS, ids: true, prefix: 's' });
    const rates = [];
    for (let run = 0; run < SEND_RUNS; run++) rates.push(await sendThroughput(clients, socketPath));
    await clients.call({ cmd: 'close' });
    console.log(`control: SEND MESSAGE throughput on the control socket to ${SEND_CONNECTIONS} connections (${SEND_MESSAGES} pipelined, median of ${SEND_RUNS})`);
    console.log(`  wsgate  ${Math.round(median(rates)).toLocaleString('en-US')} messages/s`);
  } finally {
    clients.kill();
    await control.close();
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per round: until the last client has the message, how long the broadcast call itself took
 *  (the server's share: queueing the frame on every socket), and the longest event-loop turn of
 *  this (the serving) process from the call until the last client has it. */
async function timeRounds(clients, connections, broadcast) {
  const times = { last: [], call: [], block: [] };
  for (let round = 0; round < BROADCAST_ROUNDS + 1; round++) {
    await clients.call({ cmd: 'arm', count: connections });
    const reached = clients.call({ cmd: 'wait' });
    const probe = startTurnProbe();
    const t0 = performance.now();
    await broadcast();
    const t1 = performance.now();
    await reached;
    const block = probe.stop();
    if (round === 0) continue; // warm-up
    times.last.push(performance.now() - t0);
    times.call.push(t1 - t0);
    times.block.push(block);
  }
  return times;
}

/** The longest gap between two consecutive setImmediate callbacks: one whole event-loop turn,
 *  with everything that ran in it (a client's echo waits at least that long). The chain keeps the
 *  loop from sleeping in poll, which it would not do while broadcasting anyway. */
function startTurnProbe() {
  let last = performance.now();
  let longest = 0;
  let running = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    stop() {
      running = false;
      return Math.max(longest, performance.now() - last);
    },
  };
}

/** One control-socket connection, reused for every round, as a backend would. */
function controlBroadcaster(socketPath) {
  let conversation;
  return async () => {
    conversation ??= await openConversation(socketPath);
    const answer = await conversation.request(`BROADCAST /bench ${MESSAGE}\n`, 1);
    if (!answer[0].startsWith('OK SENT')) throw new Error(`unexpected answer ${answer[0]}`);
  };
}

async function sendThroughput(clients, socketPath) {
  const conversation = await openConversation(socketPath);
  const lines = [];
  for (let i = 0; i < SEND_MESSAGES; i++) lines.push(`SEND MESSAGE s${i % SEND_CONNECTIONS} ${MESSAGE}\n`);
  const request = lines.join('');
  await clients.call({ cmd: 'arm', count: SEND_MESSAGES });
  const reached = clients.call({ cmd: 'wait' });
  const t0 = performance.now();
  const answers = conversation.request(request, SEND_MESSAGES);
  await Promise.all([answers, reached]);
  const seconds = (performance.now() - t0) / 1000;
  const bad = (await answers).find((l) => l !== 'OK SENT 1');
  if (bad !== undefined) throw new Error(`unexpected answer ${bad}`);
  conversation.close();
  return SEND_MESSAGES / seconds;
}

function runClients() {
  let sockets = [];
  let received = 0;
  let target = Infinity;
  let armedAt = 0;
  let onTarget;
  const count = () => {
    received++;
    if (received === target) onTarget?.();
  };
  process.on('message', async (m) => {
    try {
      if (m.cmd === 'open') {
        sockets = await openMany(m.url, m.count, m.ids ? (i) => `${m.prefix ?? 'b'}${i}` : undefined, count);
        process.send({ opened: sockets.length });
      } else if (m.cmd === 'arm') {
        armedAt = received;
        target = received + m.count;
        process.send({ armed: true });
      } else if (m.cmd === 'wait') {
        const timer = setTimeout(() => process.send({ error: `${received - armedAt} of ${target - armedAt} messages within ${ROUND_TIMEOUT_MS} ms` }), ROUND_TIMEOUT_MS);
        onTarget = () => {
          clearTimeout(timer);
          onTarget = undefined;
          process.send({ reached: received });
        };
        if (received >= target) onTarget();
      } else if (m.cmd === 'close') {
        await Promise.all(sockets.map((ws) => new Promise((r) => (ws.readyState === WebSocket.CLOSED ? r() : (ws.once('close', r), ws.terminate())))));
        sockets = [];
        process.send({ closed: true });
      }
    } catch (err) {
      process.send({ error: err.message });
    }
  });
}

async function openMany(url, total, idOf, onMessage) {
  const sockets = [];
  const concurrency = 200;
  let next = 0;
  async function worker() {
    while (next < total) {
      const i = next++;
      const target = idOf ? `${url}?id=${idOf(i)}` : url;
      const ws = await new Promise((ok, fail) => {
        const socket = new WebSocket(target, { perMessageDeflate: false });
        socket.once('open', () => ok(socket));
        socket.once('error', fail);
      });
      ws.on('message', onMessage);
      sockets.push(ws);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sockets;
}
