// Cluster benchmark (WebSocketClusterRedis), run against the compiled dist/ (npm run bench, or
// node bench/cluster.bench.mjs) with a private redis-server on 127.0.0.1 (skipped without one):
//  1. broadcast one 64-byte message to 10,000 connections spread over two nodes (BROADCAST on node
//     A's control socket, until the last client has it), against one node without a cluster;
//  2. SEND throughput on node A's control socket (pipelined) to connections on node B, through
//     Redis, against connections on node A (the local path);
//  3. one SEND at a time (the next after OK SENT): median time to OK SENT, to node B and to node A.
// Both nodes run in this process (each its own registry, Redis connections and control socket);
// the clients run in child processes (bench/control.bench.mjs --clients), one per node.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatewayConfig, median, openConversation, startClientProcess } from './control-clients.mjs';
import { withRaisedFileLimit } from './file-limit.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const CONNECTIONS = Number(process.env.WSGATE_BENCH_CONNECTIONS ?? 10_000);
const ROUNDS = Number(process.env.WSGATE_BENCH_ROUNDS ?? 15);
const SEND_CONNECTIONS = 100;
const SEND_MESSAGES = 20_000;
const LATENCY_SAMPLES = 1000;
const MESSAGE = 'x'.repeat(64);

if (spawnSync('redis-server', ['--version']).status !== 0) {
  console.log('cluster: skipped, redis-server is not installed (Debian: apt-get install redis-server)');
} else if (withRaisedFileLimit(self, 'WSGATE_BENCH_NOFILE')) {
  await main();
}

async function main() {
  const limit = Number(process.env.WSGATE_BENCH_NOFILE);
  const connections = Number.isFinite(limit) && limit < CONNECTIONS + 512 ? Math.max(100, limit - 512) : CONNECTIONS;
  const { startGateway } = await import(join(root, 'dist/server/gateway.js'));
  const { startControl } = await import(join(root, 'dist/control/index.js'));
  const { InProcessRegistry } = await import(join(root, 'dist/registry/in-process.js'));
  const { startRedisNodeBus } = await import(join(root, 'dist/registry/redis.js'));
  const { pino } = await import('pino');
  const log = pino({ level: 'silent' });
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-bench-cluster-'));
  const port = await freePort();
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const stops = [];
  const clients = [startClientProcess(120_000), startClientProcess(120_000)];
  try {
    await waitForRedis(port);
    const url = `redis://127.0.0.1:${port}`;
    async function node(name, cluster) {
      const socketPath = join(dir, `${name}.sock`);
      const config = await gatewayConfig(socketPath);
      const nodes = cluster ? await startRedisNodeBus({ url, cluster: 'bench', node: name, log }) : undefined;
      const registry = nodes ? new InProcessRegistry({ nodes }) : undefined;
      const gw = await startGateway(config, { log, listen: [{ host: '127.0.0.1', port: 0, loc: undefined }], ...(registry ? { registry } : {}) });
      const control = await startControl(config.control, gw.registry, log);
      const stop = async () => {
        await control.close();
        await gw.close();
        await nodes?.close();
      };
      stops.push(stop);
      return { url: `ws://127.0.0.1:${gw.addresses[0].port}/bench`, socketPath, stop };
    }

    // 1. Broadcast: one node, then two nodes with half the connections each.
    const single = await node('single', false);
    await clients[0].call({ cmd: 'open', url: single.url, count: connections, ids: true });
    const alone = await timeRounds([[clients[0], connections]], broadcaster(single.socketPath));
    await clients[0].call({ cmd: 'close' });
    await single.stop();
    stops.length = 0;

    const a = await node('A', true);
    const b = await node('B', true);
    const half = connections >> 1;
    await clients[0].call({ cmd: 'open', url: a.url, count: half, ids: true, prefix: 'a' });
    await clients[1].call({ cmd: 'open', url: b.url, count: connections - half, ids: true, prefix: 'b' });
    const spread = await timeRounds([[clients[0], half], [clients[1], connections - half]], broadcaster(a.socketPath));
    await Promise.all(clients.map((c) => c.call({ cmd: 'close' })));

    // 2 and 3. SEND to connections on B (through Redis) and on A (local), from A's control socket.
    await clients[0].call({ cmd: 'open', url: a.url, count: SEND_CONNECTIONS, ids: true, prefix: 'sa' });
    await clients[1].call({ cmd: 'open', url: b.url, count: SEND_CONNECTIONS, ids: true, prefix: 'sb' });
    const throughput = {};
    const latency = {};
    for (const [where, client, prefix] of [['local (node A)', clients[0], 'sa'], ['through Redis (node B)', clients[1], 'sb']]) {
      const rates = [];
      for (let run = 0; run < 3; run++) rates.push(await sendThroughput(client, a.socketPath, prefix));
      throughput[where] = median(rates);
      latency[where] = await sendLatency(a.socketPath, prefix);
    }
    await Promise.all(clients.map((c) => c.call({ cmd: 'close' })));

    const ms = (v) => `${v.toFixed(2).padStart(8)} ms`;
    console.log(`cluster: broadcast of one 64-byte message to ${connections} connections, until the last client has it, median of ${ROUNDS} rounds`);
    console.log(`  one node (no cluster), BROADCAST on its control socket       ${ms(median(alone))}`);
    console.log(`  two nodes over Redis, ${half} + ${connections - half}, BROADCAST on node A's socket ${ms(median(spread))}`);
    console.log(`  ratio two nodes / one node = ${(median(spread) / median(alone)).toFixed(2)}`);
    console.log(`cluster: SEND MESSAGE on node A's control socket to ${SEND_CONNECTIONS} connections (${SEND_MESSAGES} pipelined, median of 3; one at a time: median of ${LATENCY_SAMPLES})`);
    for (const where of Object.keys(throughput)) {
      console.log(`  ${where.padEnd(24)} ${Math.round(throughput[where]).toLocaleString('en-US').padStart(8)} messages/s   one at a time: ${ms(latency[where])} to OK SENT`);
    }
  } finally {
    for (const c of clients) c.kill();
    for (const stop of stops) await stop().catch(() => undefined);
    redis.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeRounds(parts, broadcast) {
  const times = [];
  for (let round = 0; round < ROUNDS + 1; round++) {
    await Promise.all(parts.map(([client, count]) => client.call({ cmd: 'arm', count })));
    const reached = Promise.all(parts.map(([client]) => client.call({ cmd: 'wait' })));
    const t0 = performance.now();
    await broadcast();
    await reached;
    if (round > 0) times.push(performance.now() - t0);
  }
  return times;
}

function broadcaster(socketPath) {
  let conversation;
  return async () => {
    conversation ??= await openConversation(socketPath);
    const [answer] = await conversation.request(`BROADCAST /bench ${MESSAGE}\n`, 1);
    if (!answer.startsWith('OK SENT') || answer.includes('UNREACHABLE')) throw new Error(`unexpected answer ${answer}`);
  };
}

async function sendThroughput(client, socketPath, prefix) {
  const conversation = await openConversation(socketPath);
  const lines = [];
  for (let i = 0; i < SEND_MESSAGES; i++) lines.push(`SEND MESSAGE ${prefix}${i % SEND_CONNECTIONS} ${MESSAGE}\n`);
  await client.call({ cmd: 'arm', count: SEND_MESSAGES });
  const reached = client.call({ cmd: 'wait' });
  const t0 = performance.now();
  const answers = conversation.request(lines.join(''), SEND_MESSAGES);
  await Promise.all([answers, reached]);
  const seconds = (performance.now() - t0) / 1000;
  const bad = (await answers).find((l) => l !== 'OK SENT 1');
  conversation.close();
  if (bad !== undefined) throw new Error(`unexpected answer ${bad}`);
  return SEND_MESSAGES / seconds;
}

async function sendLatency(socketPath, prefix) {
  const conversation = await openConversation(socketPath);
  const samples = [];
  for (let i = 0; i < LATENCY_SAMPLES + 50; i++) {
    const t0 = performance.now();
    const [answer] = await conversation.request(`SEND MESSAGE ${prefix}${i % SEND_CONNECTIONS} ${MESSAGE}\n`, 1);
    if (answer !== 'OK SENT 1') throw new Error(`unexpected answer ${answer}`);
    if (i >= 50) samples.push(performance.now() - t0);
  }
  conversation.close();
  return median(samples);
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

async function waitForRedis(port) {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise((r) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), r(true)));
      s.once('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('redis-server did not start');
}
