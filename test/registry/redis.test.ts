// The node bus over a real, private redis-server: nodes in this process (an in-process node and a
// supervisor with two IPC workers), so routing, ordering, failure and expiry are checked exactly.
// Real `wsgate serve` nodes are in test/cluster/redis-nodes.test.ts.
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InProcessRegistry } from '../../src/registry/in-process.js';
import { IpcSupervisorRegistry } from '../../src/registry/ipc-supervisor.js';
import { IpcWorkerRegistry } from '../../src/registry/ipc-worker.js';
import { BUS_MEMBER, startRedisNodeBus, type RedisNodeBus } from '../../src/registry/redis.js';
import { RecordingConnection } from './connections.js';
import { portPair } from './ports.js';
import { RedisServer, skipRedis, redisMissing } from './redis-server.js';

const HEARTBEAT_MS = 100;
const log = pino({ level: 'silent' });
let redis: RedisServer;
let cluster = 0;
const buses: RedisNodeBus[] = [];
const opened: Array<{ close(): void }> = [];

beforeAll(async () => {
  if (!skipRedis) redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const p of opened.splice(0)) p.close();
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

async function bus(node: string, name = `c${cluster}`): Promise<RedisNodeBus> {
  const b = await startRedisNodeBus({ url: redis.url, cluster: name, node, log, heartbeatMs: HEARTBEAT_MS, timeoutMs: 500, connectTimeoutMs: 1000 });
  buses.push(b);
  return b;
}

async function inProcessNode(node: string): Promise<InProcessRegistry<RecordingConnection>> {
  return new InProcessRegistry<RecordingConnection>({ nodes: await bus(node) });
}

/** A node as `wsgate serve` with workers runs it: a supervisor and two IPC workers. */
async function supervisedNode(node: string): Promise<{ supervisor: IpcSupervisorRegistry; workers: Array<IpcWorkerRegistry<RecordingConnection>> }> {
  const supervisor = new IpcSupervisorRegistry({ timeoutMs: 500, nodes: await bus(node) });
  const workers = ['w1', 'w2'].map((w) => {
    const [a, b] = portPair();
    opened.push(a, b);
    supervisor.attach(`${node}/${w}`, a);
    return new IpcWorkerRegistry<RecordingConnection>(b, { member: `${node}/${w}`, timeoutMs: 1500 });
  });
  return { supervisor, workers };
}

type Host = InProcessRegistry<RecordingConnection> | IpcWorkerRegistry<RecordingConnection>;

async function connect(host: Host, id: string | undefined, location = '/chat'): Promise<RecordingConnection> {
  const claimed = await host.claim(id);
  if (claimed === undefined) throw new Error(`claim of ${id} refused`);
  return new RecordingConnection(claimed, { location }).addTo(host.local);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skipRedis)(`registry across nodes over Redis${redisMissing ? ` (${redisMissing})` : ''}`, () => {
  afterEach(() => void cluster++);

  it('ids are unique across nodes (a worker of one, a process of another) and free again once released', async () => {
    const a = await supervisedNode('A');
    const b = await inProcessNode('B');
    const page = await connect(a.workers[0]!, 'PAGE');
    expect(await b.claim('PAGE')).toBeUndefined();
    expect(await a.workers[1]!.claim('PAGE')).toBeUndefined();
    const generated = await Promise.all([...Array(10)].map(() => b.claim(undefined)));
    expect(new Set(generated).size).toBe(10);
    a.workers[0]!.local.remove(page);
    a.workers[0]!.release('PAGE');
    await a.workers[0]!.run({ op: 'list', filter: {} }); // the release has reached the supervisor
    await expect.poll(() => b.claim('PAGE')).toBe('PAGE');
  });

  it('SEND, CLOSE and JOIN reach the owning node, in order per sender; a missing id is not found', async () => {
    const a = await supervisedNode('A');
    const b = await inProcessNode('B');
    const target = await connect(a.workers[1]!, 'T');
    for (let i = 0; i < 50; i++) void b.run({ op: 'send', id: 'T', data: `m${i}`, isBinary: false });
    expect(await b.run({ op: 'send', id: 'T', data: Buffer.from([0, 255]), isBinary: true })).toEqual({ count: 1, connections: [], unreachable: [] });
    expect(target.sent.slice(0, 50).map((s) => s.data)).toEqual([...Array(50)].map((_, i) => `m${i}`));
    expect(target.sent[50]).toEqual({ data: Buffer.from([0, 255]), isBinary: true });
    expect((await b.run({ op: 'join', id: 'T', group: 'g' })).count).toBe(1);
    expect([...target.groups]).toEqual(['g']);
    expect(await b.run({ op: 'send', id: 'NOPE', data: 'x', isBinary: false })).toEqual({ count: 0, connections: [], unreachable: [] });
    // From node A to node B, from a worker (through its supervisor) and from the supervisor.
    const onB = await connect(b, 'ONB');
    expect((await a.workers[0]!.run({ op: 'send', id: 'ONB', data: 'from A', isBinary: false })).count).toBe(1);
    expect((await a.supervisor.run({ op: 'close', id: 'ONB', code: 4001, reason: 'bye' })).count).toBe(1);
    expect(onB.sent.map((s) => s.data)).toEqual(['from A']);
    expect(onB.closedWith).toEqual({ code: 4001, reason: 'bye' });
  });

  it('LIST and BROADCAST (Location, group) cover every node, with node/member names', async () => {
    const a = await supervisedNode('A');
    const b = await inProcessNode('B');
    const a1 = await connect(a.workers[0]!, 'a1');
    const a2 = await connect(a.workers[1]!, 'a2', '/echo');
    const b1 = await connect(b, 'b1');
    b1.join('room');
    a2.join('room');
    const all = await b.run({ op: 'list', filter: {} });
    expect(all.unreachable).toEqual([]);
    expect(all.connections.map((c) => `${c.id}@${c.member}`).sort()).toEqual(['a1@A/w1', 'a2@A/w2', 'b1@B']);
    expect((await a.supervisor.run({ op: 'list', filter: { location: '/chat' } })).connections.map((c) => c.id).sort()).toEqual(['a1', 'b1']);
    expect(await a.workers[0]!.run({ op: 'broadcast', filter: { location: '/chat' }, data: 'hi', isBinary: false, except: 'a1' })).toEqual({
      count: 1,
      connections: [],
      unreachable: [],
    });
    expect((await b.run({ op: 'broadcast', filter: { group: 'room' }, data: 'r', isBinary: false })).count).toBe(2);
    expect([a1.sent.map((s) => s.data), a2.sent.map((s) => s.data), b1.sent.map((s) => s.data)]).toEqual([[], ['r'], ['hi', 'r']]);
  });

  it('a backend PUBLISH on wsgate:CLUSTER:push is delivered by every node; a bad one is ignored', async () => {
    const a = await supervisedNode('A');
    const b = await inProcessNode('B');
    const a1 = await connect(a.workers[1]!, 'a1', '/board');
    const b1 = await connect(b, 'b1', '/board');
    const publisher = new Redis(redis.url);
    try {
      const channel = `wsgate:c${cluster}:push`;
      expect(await publisher.publish(channel, 'not json')).toBe(2);
      await publisher.publish(channel, JSON.stringify({ op: 'send', id: 'a1', text: 'to a1' }));
      await publisher.publish(channel, JSON.stringify({ op: 'broadcast', location: '/board', binary: Buffer.from('bin').toString('base64') }));
      await publisher.publish(channel, JSON.stringify({ op: 'close', id: 'b1', code: 4000, reason: 'done' }));
      await expect.poll(() => b1.closedWith).toEqual({ code: 4000, reason: 'done' });
      await expect.poll(() => a1.sent.length).toBe(2);
      expect(a1.sent).toEqual([{ data: 'to a1', isBinary: false }, { data: Buffer.from('bin'), isBinary: true }]);
      expect(b1.sent).toEqual([{ data: Buffer.from('bin'), isBinary: true }]);
    } finally {
      publisher.disconnect();
    }
  });

  it('a second live node with the same name is refused with a clear error', async () => {
    await bus('SAME');
    await expect(bus('SAME')).rejects.toMatchObject({ code: 'CONFIG_VALUE', message: expect.stringMatching(/WebSocketNodeName SAME: a live node .* already uses this name/) });
  });

  it('a node that dies disappears and frees its ids within 3 heartbeats', async () => {
    const a = await inProcessNode('A');
    const b = await inProcessNode('B');
    await connect(b, 'HELD');
    expect(await a.claim('HELD')).toBeUndefined();
    // B crashes: no goodbye, no more heartbeats.
    const dead = buses[1]! as unknown as { timer: NodeJS.Timeout; commands: Redis; subscriber: Redis };
    clearInterval(dead.timer);
    dead.commands.disconnect();
    dead.subscriber.disconnect();
    buses.splice(1, 1);
    const listed = await a.run({ op: 'list', filter: {} });
    expect(listed.unreachable).toEqual(['B']);
    await sleep(3 * HEARTBEAT_MS + 50);
    expect(await a.run({ op: 'list', filter: {} })).toEqual({ count: 0, connections: [], unreachable: [] });
    expect(await a.claim('HELD')).toBe('HELD');
  });

  it('Redis down: local commands work, the rest says "redis"; back up: ids are re-claimed and the cluster works again', async () => {
    const a = await inProcessNode('A');
    const b = await inProcessNode('B');
    const a1 = await connect(a, 'a1');
    const b1 = await connect(b, 'b1');
    await redis.stop();
    await sleep(50);
    expect(await a.run({ op: 'send', id: 'a1', data: 'local', isBinary: false })).toEqual({ count: 1, connections: [], unreachable: [] });
    expect(await a.run({ op: 'broadcast', filter: {}, data: 'all', isBinary: false })).toEqual({ count: 1, connections: [], unreachable: [BUS_MEMBER] });
    expect(await a.run({ op: 'send', id: 'b1', data: 'x', isBinary: false })).toEqual({ count: 0, connections: [], unreachable: [BUS_MEMBER] });
    // New connections are still served; their ids are claimed when Redis is back.
    await connect(a, 'during');
    await redis.restart(); // empty: everything the nodes held is gone until they renew it
    await expect.poll(async () => (await b.run({ op: 'list', filter: {} })).connections.map((c) => c.id).sort(), { timeout: 5000 }).toEqual(['a1', 'b1', 'during']);
    expect(await b.claim('during')).toBeUndefined();
    expect((await b.run({ op: 'send', id: 'a1', data: 'again', isBinary: false })).count).toBe(1);
    expect(a1.sent.map((s) => s.data)).toEqual(['local', 'all', 'again']);
    expect(b1.sent).toEqual([]);
  });
});
