// Two real `wsgate serve` nodes sharing a real, private redis-server (WebSocketClusterRedis): node
// A with 2 worker processes, node B in one process (WebSocketWorkers 0), so both registry paths
// are on the bus. The tests run in order: the last ones kill Redis, then node B.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSocket, type ControlClient } from '../../src/control/client.js';
import type { ConnectionInfo } from '../../src/control/index.js';
import { repoRoot } from '../native/helpers.js';
import { RedisServer, freePort, redisMissing, skipRedis } from '../registry/redis-server.js';
import { runProcess } from '../run-process.js';
import { buildOnce, listeningAddress, startServe, stopAll, waitForLog, type ServeProcess } from '../server/spawned-serve.js';
import { openClient, type Client } from './ws-client.js';

interface Node {
  name: string;
  served: ServeProcess;
  base: string;
  socket: string;
  control: ControlClient;
  http: string | undefined;
}

let redis: RedisServer;
let a: Node;
let b: Node;
const clients: WebSocket[] = [];
const hasPhpRedis = (await runProcess('php', ['-r', 'exit(class_exists("Redis") ? 0 : 1);']).catch(() => ({ code: 1 }))).code === 0;

function config(name: string, socket: string, workers: number, httpPort: number | undefined): string {
  return `Listen 127.0.0.1:0
WebSocketWorkers ${workers}
WebSocketControlSocket ${socket}
${httpPort ? `WebSocketControlListen 127.0.0.1:${httpPort}` : ''}
WebSocketClusterRedis ${redis.url}
WebSocketClusterName t
WebSocketNodeName ${name}
<Location /echo>
  SetHandler websocket-handler
  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}
</Location>
<Location /chat>
  SetHandler websocket-handler
  WebSocketHandler ${join(repoRoot, 'handlers/chat.mjs')}
</Location>
`;
}

async function startNode(name: string, workers: number, http: boolean): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), `wsgate-node-${name}-`));
  const socket = join(dir, 'control.sock');
  const httpPort = http ? await freePort() : undefined;
  writeFileSync(join(dir, 'wsgate.conf'), config(name, socket, workers, httpPort));
  const served = startServe(['-f', join(dir, 'wsgate.conf')]);
  const address = await listeningAddress(served);
  await waitForLog(served, 'cluster bus connected');
  if (workers > 0) await waitForLog(served, 'serving');
  let control: ControlClient | undefined;
  for (let i = 0; !control; i++) {
    control = await connectSocket(socket).catch((err: unknown) => {
      if (i > 100) throw err;
      return new Promise<undefined>((r) => setTimeout(() => r(undefined), 50));
    });
  }
  return { name, served, base: `ws://${address}`, socket, control, http: httpPort ? `http://127.0.0.1:${httpPort}` : undefined };
}

function open(url: string): Promise<Client> {
  return openClient(url, clients);
}

async function list(node: Node): Promise<{ connections: ConnectionInfo[]; unreachable: string[] }> {
  const result = await node.control.execute({ kind: 'list', detail: true, filter: {} });
  if (result.kind !== 'list') throw new Error('not a list');
  return result;
}

const ctl = (node: Node, ...args: string[]) => runProcess(process.execPath, [join(repoRoot, 'bin/wsgate.js'), 'ctl', '--socket', node.socket, ...args]);

describe.skipIf(skipRedis)(`two wsgate nodes sharing Redis${redisMissing ? ` (${redisMissing})` : ''}`, () => {
  beforeAll(async () => {
    buildOnce();
    redis = await RedisServer.start();
    a = await startNode('A', 2, true);
    b = await startNode('B', 0, false);
  }, 60_000);
  afterAll(async () => {
    for (const ws of clients.splice(0)) ws.terminate();
    await Promise.all([a?.control.close(), b?.control.close()]);
    stopAll();
    await redis?.stop();
  });

  it('ids are unique across nodes (409); LIST on either node shows both, with node names', async () => {
    await open(`${a.base}/chat?id=onA1&room=r`);
    await open(`${a.base}/chat?id=onA2`);
    await open(`${b.base}/chat?id=onB&room=r`);
    await expect(open(`${b.base}/chat?id=onA1`)).rejects.toMatchObject({ status: 409 });
    for (let i = 0; i < 2; i++) await expect(open(`${a.base}/echo?id=onB`)).rejects.toMatchObject({ status: 409 });
    for (const node of [a, b]) {
      const listed = await list(node);
      expect(listed.unreachable).toEqual([]);
      expect(listed.connections.map((c) => `${c.id}@${c.member.replace(/\d+$/, 'N')}`).sort()).toEqual(['onA1@A/wN', 'onA2@A/wN', 'onB@B']);
    }
  });

  it('SEND and CLOSE reach the other node through the socket, HTTP and wsgate ctl', async () => {
    const onB = await open(`${b.base}/echo?id=sendB`);
    const onA = await open(`${a.base}/echo?id=sendA`);
    expect(await a.control.execute({ kind: 'send', id: 'sendB', data: 'socket' })).toEqual({ kind: 'sent', count: 1, unreachable: [] });
    const http = await fetch(`${a.http}/connections/sendB/send`, { method: 'POST', body: 'http', headers: { 'content-type': 'text/plain' } });
    expect(http.status).toBe(200);
    expect(await ctl(b, 'send', 'sendA', 'ctl')).toMatchObject({ code: 0 });
    await expect.poll(() => onB.messages).toEqual(['socket', 'http']);
    await expect.poll(() => onA.messages).toEqual(['ctl']);
    expect(await ctl(b, 'send', 'nobody', 'x')).toMatchObject({ code: 1, stderr: expect.stringMatching(/no connection matched/) });
    await b.control.execute({ kind: 'close', id: 'sendA', code: 4001, reason: 'bye' });
    expect(await onA.closed).toBe(4001);
  });

  it('BROADCAST and a handler broadcast (chat) reach both nodes, in order per sender', async () => {
    const chat = await Promise.all([a, a, b].map((n, i) => open(`${n.base}/chat?id=bc${i}&room=bc`)));
    expect(await b.control.execute({ kind: 'broadcast', filter: { group: 'room:bc' }, data: 'all' })).toEqual({ kind: 'sent', count: 3, unreachable: [] });
    for (let i = 0; i < 20; i++) chat[2]!.ws.send(`m${i}`);
    const expected = ['all', ...Array.from({ length: 20 }, (_, i) => `m${i}`)].join(',');
    await expect.poll(() => chat.map((c) => c.messages.join(','))).toEqual([expected, expected, expected]);
  });

  it('a backend PUBLISH on wsgate:t:push reaches a client on either node (ioredis and PHP phpredis)', async () => {
    const onA = await open(`${a.base}/echo?id=pushA`);
    const onB = await open(`${b.base}/echo?id=pushB`);
    const publisher = new Redis(redis.url);
    try {
      expect(await publisher.publish('wsgate:t:push', JSON.stringify({ op: 'send', id: 'pushA', text: 'from redis' }))).toBe(2);
      await expect.poll(() => onA.messages).toEqual(['from redis']);
    } finally {
      publisher.disconnect();
    }
    if (hasPhpRedis || process.env.CI === 'true') {
      const r = await runProcess('php', [join(repoRoot, 'apache/php/push-redis.php'), redis.url, 't', 'pushB', '{"text":"from PHP"}']);
      expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
      await expect.poll(() => onB.messages).toEqual(['{"text":"from PHP"}']);
    }
  });

  it('Redis killed: each node serves its own, cluster commands say "redis"; Redis back: the cluster works again', async () => {
    const onA = await open(`${a.base}/echo?id=downA`);
    const onB = await open(`${b.base}/echo?id=downB`);
    await redis.stop();
    await waitForLog(b.served, 'cluster bus unavailable: this node keeps serving its own connections; reconnecting with back-off');
    onA.ws.send('echo A');
    onB.ws.send('echo B');
    await expect.poll(() => [onA.messages, onB.messages]).toEqual([['echo A'], ['echo B']]);
    const down = await b.control.execute({ kind: 'broadcast', filter: { location: '/echo' }, data: 'during' });
    expect(down).toMatchObject({ kind: 'sent', unreachable: ['redis'] });
    expect(down.kind === 'sent' && down.count).toBeGreaterThanOrEqual(2);
    await expect(b.control.execute({ kind: 'send', id: 'downA', data: 'x' })).rejects.toMatchObject({ code: 'CONTROL_UNREACHABLE' });
    const fresh = await open(`${b.base}/echo?id=freshB`);

    await redis.restart();
    await waitForLog(b.served, 'cluster bus reconnected');
    await expect
      .poll(async () => (await list(a)).connections.map((c) => c.id).filter((id) => ['downA', 'downB', 'freshB'].includes(id)).sort(), { timeout: 10_000 })
      .toEqual(['downA', 'downB', 'freshB']);
    expect(await b.control.execute({ kind: 'send', id: 'downA', data: 'back' })).toEqual({ kind: 'sent', count: 1, unreachable: [] });
    await expect.poll(() => onA.messages).toEqual(['echo A', 'back']);
    await expect(open(`${a.base}/echo?id=freshB`)).rejects.toMatchObject({ status: 409 });
    expect(fresh.messages).toEqual([]);
  });

  it('a node refuses to start when Redis cannot be reached (exit 2) or its name is held by a live node (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-node-refused-'));
    const refused = async (conf: string): Promise<{ code: number | null; stderr: string }> => {
      writeFileSync(join(dir, 'wsgate.conf'), conf);
      const served = startServe(['-f', join(dir, 'wsgate.conf')]);
      return { code: await served.exit, stderr: served.stderr };
    };
    const base = `Listen 127.0.0.1:0\nWebSocketWorkers 0\n<Location /echo>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(repoRoot, 'handlers/echo.mjs')}\n</Location>\n`;
    const noRedis = await refused(`${base}WebSocketClusterRedis redis://127.0.0.1:${await freePort()}\n`);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toMatch(/cannot reach the cluster's Redis at redis:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
    const twin = await refused(`${base}WebSocketClusterRedis ${redis.url}\nWebSocketClusterName t\nWebSocketNodeName A\n`);
    expect(twin.code).toBe(1);
    expect(twin.stderr).toMatch(/WebSocketNodeName A: a live node of cluster 't' already uses this name/);
    expect((await list(a)).unreachable).toEqual([]);
  }, 20_000);

  it('a node killed with SIGKILL leaves LIST and frees its ids within 3 s (3 heartbeats)', async () => {
    await open(`${b.base}/echo?id=doomed`);
    await expect(open(`${a.base}/echo?id=doomed`)).rejects.toMatchObject({ status: 409 });
    b.served.child.kill('SIGKILL');
    const killedAt = Date.now();
    let freed: Client | undefined;
    while (!freed && Date.now() - killedAt < 6000) {
      freed = await open(`${a.base}/echo?id=doomed`).catch(() => undefined);
      if (!freed) await new Promise((r) => setTimeout(r, 100));
    }
    expect(freed, 'the id is free again').toBeDefined();
    expect(Date.now() - killedAt).toBeLessThan(4000);
    const listed = await list(a);
    expect(listed.unreachable).toEqual([]);
    expect(listed.connections.every((c) => c.member.startsWith('A/'))).toBe(true);
  });
});
