// The IPC registry: three workers and a supervisor over real structured-clone channels.
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessRegistry } from '../../src/registry/in-process.js';
import { IpcSupervisorRegistry } from '../../src/registry/ipc-supervisor.js';
import { IpcWorkerRegistry, SUPERVISOR_MEMBER } from '../../src/registry/ipc-worker.js';
import { RecordingConnection } from './connections.js';
import { deafPort, portPair } from './ports.js';

type Worker = IpcWorkerRegistry<RecordingConnection>;

const opened: Array<{ close(): void }> = [];

afterEach(() => {
  for (const p of opened.splice(0)) p.close();
});

function cluster(names: string[], timeoutMs = 500): { supervisor: IpcSupervisorRegistry; workers: Worker[]; ports: Array<{ close(): void }> } {
  const supervisor = new IpcSupervisorRegistry({ timeoutMs });
  const ports: Array<{ close(): void }> = [];
  const workers = names.map((name) => {
    const [supervisorSide, workerSide] = portPair();
    opened.push(supervisorSide, workerSide);
    ports.push(workerSide);
    supervisor.attach(name, supervisorSide);
    return new IpcWorkerRegistry<RecordingConnection>(workerSide, { member: name, timeoutMs: timeoutMs * 2 });
  });
  return { supervisor, workers, ports };
}

/** Claims the id through the registry and registers a connection under it. */
async function connect(worker: Worker, id: string | undefined, location = '/chat'): Promise<RecordingConnection> {
  const claimed = await worker.claim(id);
  if (claimed === undefined) throw new Error(`claim of ${id} refused`);
  return new RecordingConnection(claimed, { location }).addTo(worker.local);
}

describe('IPC registry', () => {
  it('refuses a requested id that lives on another worker, and frees it when that connection ends', async () => {
    const { workers } = cluster(['w1', 'w2', 'w3']);
    const first = await connect(workers[0]!, 'PAGE1');
    expect(await workers[1]!.claim('PAGE1')).toBeUndefined();
    expect(await workers[0]!.claim('PAGE1')).toBeUndefined();
    workers[0]!.local.remove(first);
    workers[0]!.release('PAGE1');
    // The release travels on worker 1's pipe: a round trip on the same pipe has passed it.
    await workers[0]!.run({ op: 'list', filter: {} });
    expect(await workers[2]!.claim('PAGE1')).toBe('PAGE1');
  });

  it('generates ids that are unique and owned by the claiming worker', async () => {
    const { supervisor, workers } = cluster(['w1', 'w2']);
    const ids = await Promise.all([...Array(20)].map((_, i) => workers[i % 2]!.claim(undefined)));
    expect(new Set(ids).size).toBe(20);
    expect(supervisor.idsOf('w1').size + supervisor.idsOf('w2').size).toBe(20);
  });

  it('lists every connection once, with its worker', async () => {
    const { supervisor, workers } = cluster(['w1', 'w2', 'w3']);
    await connect(workers[0]!, 'A');
    await connect(workers[1]!, 'B');
    await connect(workers[2]!, 'C', '/echo');
    const all = await supervisor.run({ op: 'list', filter: {} });
    expect(all.unreachable).toEqual([]);
    expect(all.connections.map((c) => `${c.id}@${c.member}`).sort()).toEqual(['A@w1', 'B@w2', 'C@w3']);
    const chat = await workers[0]!.run({ op: 'list', filter: { location: '/chat' } });
    expect(chat.connections.map((c) => c.id).sort()).toEqual(['A', 'B']);
  });

  it('sends and closes across workers, in order per sender, and reports a missing id', async () => {
    const { supervisor, workers } = cluster(['w1', 'w2']);
    const target = await connect(workers[1]!, 'T');
    for (let i = 0; i < 50; i++) void workers[0]!.run({ op: 'send', id: 'T', data: `m${i}`, isBinary: false });
    const last = await workers[0]!.run({ op: 'send', id: 'T', data: Buffer.from('bin'), isBinary: true });
    expect(last.count).toBe(1);
    expect(target.sent.slice(0, 50).map((s) => s.data)).toEqual([...Array(50)].map((_, i) => `m${i}`));
    expect(target.sent[50]).toEqual({ data: Buffer.from('bin'), isBinary: true });

    expect((await supervisor.run({ op: 'send', id: 'NOPE', data: 'x', isBinary: false })).count).toBe(0);
    expect((await supervisor.run({ op: 'close', id: 'T', code: 4001, reason: 'bye' })).count).toBe(1);
    expect(target.closedWith).toEqual({ code: 4001, reason: 'bye' });
    expect((await supervisor.run({ op: 'send', id: 'T', data: 'late', isBinary: false })).count).toBe(0);
  });

  it('broadcasts to a Location and to a group on every worker, except the sender when asked', async () => {
    const { supervisor, workers } = cluster(['w1', 'w2', 'w3']);
    const a = await connect(workers[0]!, 'A');
    const b = await connect(workers[1]!, 'B');
    const c = await connect(workers[2]!, 'C', '/echo');
    expect((await supervisor.run({ op: 'join', id: 'C', group: 'room' })).count).toBe(1);
    expect((await workers[0]!.run({ op: 'join', id: 'B', group: 'room' })).count).toBe(1);

    const toChat = await workers[0]!.run({ op: 'broadcast', filter: { location: '/chat' }, data: 'hi', isBinary: false, except: 'A' });
    expect(toChat).toEqual({ count: 1, connections: [], unreachable: [] });
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([0, 1, 0]);

    const toRoom = await supervisor.run({ op: 'broadcast', filter: { group: 'room' }, data: Buffer.from([1, 2]), isBinary: true });
    expect(toRoom.count).toBe(2);
    expect([a.sent.length, b.sent.length, c.sent.length]).toEqual([0, 2, 1]);
  });

  it('names a worker that does not answer instead of counting it, and forgets one that is gone', async () => {
    const supervisor = new IpcSupervisorRegistry({ timeoutMs: 100 });
    const [supervisorSide, workerSide] = portPair();
    opened.push(supervisorSide, workerSide);
    supervisor.attach('w1', supervisorSide);
    supervisor.attach('w2', deafPort());
    const w1 = new IpcWorkerRegistry<RecordingConnection>(workerSide, { member: 'w1' });
    await connect(w1, 'A');

    const listed = await supervisor.run({ op: 'list', filter: {} });
    expect(listed.connections.map((c) => c.id)).toEqual(['A']);
    expect(listed.unreachable).toEqual(['w2']);

    workerSide.close();
    await new Promise((r) => setTimeout(r, 20));
    expect(supervisor.idsOf('w1').size).toBe(0);
    expect(await supervisor.run({ op: 'send', id: 'A', data: 'x', isBinary: false })).toEqual({ count: 0, connections: [], unreachable: [] });
  });

  it('a worker whose supervisor is gone answers its own connections and reports the rest unreachable', async () => {
    const { workers, ports } = cluster(['w1', 'w2']);
    const own = await connect(workers[0]!, 'OWN');
    ports[0]!.close();
    await new Promise((r) => setTimeout(r, 20));
    expect((await workers[0]!.run({ op: 'send', id: 'OWN', data: 'x', isBinary: false })).count).toBe(1);
    expect(own.sent).toHaveLength(1);
    const everywhere = await workers[0]!.run({ op: 'broadcast', filter: {}, data: 'y', isBinary: false });
    expect(everywhere).toEqual({ count: 1, connections: [], unreachable: [SUPERVISOR_MEMBER] });
    await expect(workers[0]!.claim('NEW')).rejects.toMatchObject({ code: 'HANDSHAKE_UNAVAILABLE', status: 503 });
  });
});

describe('in-process registry', () => {
  it('answers every command from its own connections', async () => {
    const registry = new InProcessRegistry<RecordingConnection>();
    const id = await registry.claim('ME');
    expect(await registry.claim('ME')).toBeUndefined();
    const conn = new RecordingConnection(id!).addTo(registry.local);
    expect((await registry.run({ op: 'info', id: 'ME' })).connections[0]).toMatchObject({ id: 'ME', location: '/chat', member: '' });
    expect((await registry.run({ op: 'broadcast', filter: {}, data: 'x', isBinary: false })).count).toBe(1);
    conn.close(1000);
    expect((await registry.run({ op: 'list', filter: {} })).count).toBe(0);
  });
});
