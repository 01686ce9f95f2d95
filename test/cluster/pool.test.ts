// The supervisor/worker pool with real worker processes. The fixture worker is plain JS that
// imports the built runtime (dist/cluster/): `npm run build` before running this file; see
// helpers.ts, which also reaps every process a test started (SIGKILL in afterEach).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanUp,
  echoSpec,
  isAlive,
  KeepAliveClient,
  sleep,
  startedPids,
  startTestPool,
  supervisorScript,
  waitFor,
} from './helpers.js';

const clients: KeepAliveClient[] = [];
function client(port: number): KeepAliveClient {
  const c = new KeepAliveClient(port);
  clients.push(c);
  return c;
}

beforeAll(() => assertBuilt());
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await cleanUp();
});

describe('routing', () => {
  it('spreads connections over the workers by their live connections', async () => {
    const { pool, port } = await startTestPool({ count: 3 });
    const pids = new Set(pool.workers().map((w) => w.pid));
    expect(pids.size).toBe(3);
    const answered = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const a = await client(port).get('/');
      expect(a.status).toBe(200);
      expect(a.body).toMatch(/^worker [0-2] pid \d+ gen /);
      answered.add(a.pid);
    }
    expect(answered).toEqual(pids);
    // Paused-on-accept sockets are resumed in the worker: keep-alive requests keep flowing.
    const c = clients[0]!;
    const again = await c.get('/');
    expect(again.reused).toBe(true);
  });

  it('holds a socket while no worker is alive and hands it to the replacement', async () => {
    const { pool, port, exits } = await startTestPool({ count: 1 });
    const [old] = pool.workers();
    process.kill(old!.pid!, 'SIGKILL');
    await waitFor('the exit', () => exits.length === 1);
    // No worker now: the listener stays open and the socket waits for the replacement.
    const a = await client(port).get('/');
    expect(a.status).toBe(200);
    expect(a.pid).not.toBe(old!.pid);
  });

  it('carries Port payloads both ways, Buffers as bytes, and closes the port on exit', async () => {
    const { ready } = await startTestPool({ count: 1 });
    const handle = ready[0]!;
    const got = new Promise<unknown>((resolve) => handle.port.onMessage(resolve));
    expect(handle.port.post({ t: 'socket', bytes: Buffer.from([0, 1, 255]) })).toBe(true);
    const echoed = (await got) as { echoed: { t: string; bytes: Uint8Array }; pid: number };
    expect(echoed.pid).toBe(handle.pid);
    expect(echoed.echoed.t).toBe('socket');
    expect([...echoed.echoed.bytes]).toEqual([0, 1, 255]);
    const closed = new Promise<void>((resolve) => handle.port.onClose(resolve));
    process.kill(handle.pid!, 'SIGKILL');
    await closed;
    expect(handle.port.post('late')).toBe(false);
  });
});

describe('crash isolation', () => {
  it.each([
    ['SIGSEGV', '/crash'],
    ['SIGKILL', undefined],
  ])('a worker killed by %s is logged and replaced; the others keep their connections', async (signal, path) => {
    const { pool, port, logs, exits } = await startTestPool({ count: 3 });
    const conns = [client(port), client(port), client(port)];
    const first = await Promise.all(conns.map((c) => c.get('/')));
    expect(new Set(first.map((a) => a.pid)).size).toBe(3);
    const victim = first[0]!.pid;
    if (path) conns[0]!.fire(path);
    else process.kill(victim, 'SIGKILL');
    const died = Date.now();
    await waitFor('the death', () => exits.find((e) => e.pid === victim));

    // The other workers' open keep-alive connections still answer, from the same processes.
    for (const [i, c] of conns.slice(1).entries()) {
      const a = await c.get('/');
      expect(a.reused).toBe(true);
      expect(a.pid).toBe(first[i + 1]!.pid);
    }
    // A replacement in the same slot is ready within 2 s, and takes the next connection (fewest).
    const replacement = await waitFor(
      'the replacement',
      () => pool.workers().find((w) => w.state === 'ready' && !first.some((a) => a.pid === w.pid)),
      2000,
    );
    expect(Date.now() - died).toBeLessThan(2000);
    const fresh = await client(port).get('/');
    expect(fresh.pid).toBe(replacement.pid);

    const line = logs.find((l) => l.msg === 'worker died; replacing it' && l.workerPid === victim);
    expect(line).toMatchObject({
      supervisor: true,
      signal,
      code: null,
      worker: exits[0]!.slot,
      generation: 1,
      context: { handler: 'echo-worker', locations: ['/'] },
    });
    expect(typeof line!.uptimeMs).toBe('number');
    expect(replacement.slot).toBe(exits[0]!.slot);
  });

  it('backs off a worker that crashes at every start, without spinning a core', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wsgate-cluster-'));
    const crashFile = join(dir, 'crash');
    try {
      const { pool, starts, exits, logs } = await startTestPool({ count: 1, env: { ECHO_CRASH_AT_START_IF: crashFile } });
      writeFileSync(crashFile, '');
      const cpuBefore = process.cpuUsage();
      const startsBefore = starts.length;
      process.kill(pool.workers()[0]!.pid!, 'SIGKILL');
      await sleep(3000);
      const cpu = process.cpuUsage(cpuBefore);
      const restarts = starts.length - startsBefore;
      // 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s of back-off (plus start-up time) fit in 3 s: 5 restarts, not hundreds.
      expect(restarts).toBeGreaterThanOrEqual(2); // start-up itself takes ~0.5 s on a loaded 2-core box
      expect(restarts).toBeLessThanOrEqual(6);
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(1500);
      const delays = exits.slice(1).map((e) => e.restartInMs!);
      expect(delays.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);
      expect(logs.some((l) => l.msg === 'worker died while starting; replacing it' && l.signal === 'SIGSEGV')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('heartbeat', () => {
  it('kills a hung worker and replaces it', async () => {
    const { pool, port, exits, logs } = await startTestPool({ count: 2, heartbeatIntervalMs: 200, hangTimeoutMs: 2000 });
    const hung = client(port);
    const victim = (await hung.get('/')).pid;
    hung.fire('/hang');
    const exit = await waitFor('the hung worker to be killed', () => exits.find((e) => e.pid === victim), 10_000);
    expect(exit.signal).toBe('SIGKILL');
    expect(exit.reason).toMatch(/^hung: no heartbeat answer for \d+ ms$/);
    expect(exit.planned).toBe(false);
    expect(logs.some((l) => l.msg === 'worker hung; killing it' && l.workerPid === victim)).toBe(true);
    await waitFor('the replacement', () => pool.workers().filter((w) => w.state === 'ready').length === 2 || undefined, 10_000);
    expect(pool.workers().some((w) => w.pid === victim)).toBe(false);
  });
});

describe('reload', () => {
  it('sends new connections to the new generation and drains the old one', async () => {
    const { pool, port, exits } = await startTestPool({ count: 2, env: { ECHO_GEN: 'one' } });
    const old = client(port);
    const before = await old.get('/');
    expect(before.gen).toBe('one');
    const oldPids = pool.workers().map((w) => w.pid);

    await expect(pool.reload(echoSpec(2, { ECHO_GEN: 'two' }), { drainDeadlineMs: 1500 })).resolves.toEqual({ generation: 2 });
    expect(pool.generation).toBe(2);
    // The old keep-alive connection is still served by its old worker…
    const during = await old.get('/');
    expect(during).toMatchObject({ reused: true, pid: before.pid, gen: 'one' });
    // …new connections go to the new workers only.
    for (let i = 0; i < 3; i++) expect((await client(port).get('/')).gen).toBe('two');

    // After the drain deadline the old workers exit (planned: not replaced) and the old connection is closed.
    await waitFor('the old workers to exit', () => oldPids.every((pid) => exits.some((e) => e.pid === pid)) || undefined, 8000);
    expect(exits.filter((e) => oldPids.includes(e.pid)).every((e) => e.planned && e.restartInMs === undefined)).toBe(true);
    expect(pool.workers().map((w) => w.generation)).toEqual([2, 2]);
    const after = await old.get('/');
    expect(after).toMatchObject({ reused: false, gen: 'two' });
  });

  it('aborts a reload whose workers die at start and keeps the old generation serving', async () => {
    const { pool, port, logs } = await startTestPool({ count: 2, env: { ECHO_GEN: 'one' } });
    await expect(pool.reload(echoSpec(2, { ECHO_GEN: 'bad', ECHO_DIE_AT_START: '1' }))).rejects.toThrow(
      /workers of generation 2 failed to start: worker \d \(pid \d+\) exited with code 7 before it was ready; generation 1 keeps serving/,
    );
    expect(pool.generation).toBe(1);
    expect((await client(port).get('/')).gen).toBe('one');
    await waitFor('the failed generation to be gone', () => pool.workers().every((w) => w.generation === 1) || undefined);
    expect(pool.workers()).toHaveLength(2);
    expect(logs.some((l) => l.msg === 'generation 2 aborted; generation 1 keeps serving')).toBe(true);
  });

  it('changes Listen addresses; an address in use aborts the reload with a clear error', async () => {
    const { pool, port } = await startTestPool({ count: 1 });
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const busy = (blocker.address() as AddressInfo).port;
    try {
      const listen = [
        { host: '127.0.0.1', port: 0, loc: undefined },
        { host: '127.0.0.1', port: busy, loc: { file: 'wsgate.conf', line: 3, column: 1 } },
      ];
      await expect(pool.reload(echoSpec(1), { listen })).rejects.toThrow(
        `reload aborted: wsgate.conf:3:1: 127.0.0.1:${busy} is in use by another process (EADDRINUSE); generation 1 keeps serving`,
      );
      expect((await client(port).get('/')).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    // A new address opens before the old one closes; the old one then refuses connections.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const freshPort = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await pool.reload(echoSpec(1), { listen: [{ host: '127.0.0.1', port: freshPort, loc: undefined }], drainDeadlineMs: 100 });
    expect(pool.listeners().map((l) => l.bound.port)).toEqual([freshPort]);
    expect((await client(freshPort).get('/')).status).toBe(200);
    await expect(client(port).get('/')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('stop', () => {
  it('startPool rejects, with every worker gone, when the first workers die at start', async () => {
    await expect(startTestPool({ count: 2, env: { ECHO_DIE_AT_START: '1' } })).rejects.toThrow(/^workers of generation 1 failed to start: worker \d \(pid \d+\) exited with code 7 before it was ready$/);
    expect(startedPids.size).toBe(2);
    expect([...startedPids].every((pid) => !isAlive(pid))).toBe(true);
  });

  it('closes the listeners and reaps every worker', async () => {
    const { pool, port, exits } = await startTestPool({ count: 3 });
    const open = client(port);
    await open.get('/');
    const pids = pool.workers().map((w) => w.pid!);
    await pool.stop({ deadlineMs: 500 });
    expect(pool.workers()).toEqual([]);
    expect(pids.every((pid) => !isAlive(pid))).toBe(true);
    expect(exits.every((e) => e.planned)).toBe(true);
    await expect(new KeepAliveClient(port).get('/')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('workers exit by themselves when the supervisor is SIGKILLed (no orphans)', async () => {
    const supervisor = spawn(process.execPath, [supervisorScript], { stdio: ['ignore', 'pipe', 'inherit'] });
    startedPids.add(supervisor.pid!);
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      supervisor.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      supervisor.on('exit', (code) => reject(new Error(`supervisor exited early (${String(code)})`)));
    });
    const { port, pids } = JSON.parse(line) as { port: number; pids: number[] };
    for (const pid of pids) startedPids.add(pid);
    expect((await client(port).get('/')).status).toBe(200);
    supervisor.kill('SIGKILL');
    await waitFor('the orphaned workers to exit', () => pids.every((pid) => !isAlive(pid)) || undefined, 4000);
  });
});
