// test/cluster: pools of REAL worker processes. Forked children run plain Node, so the fixture
// worker (test/fixtures/cluster/echo-worker.mjs) imports the built runtime from dist/cluster/:
// run `npm run build` first (CI's `npm ci` does). assertBuilt() fails with that advice when dist/
// is missing or older than src/cluster. Every worker pid ever started is SIGKILLed in afterEach.
import { statSync, readdirSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../src/log.js';
import { startPool, type PoolOptions, type WorkerExit, type WorkerHandle, type WorkerPool } from '../../src/cluster/pool.js';

const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const echoWorker = join(root, 'test', 'fixtures', 'cluster', 'echo-worker.mjs');
export const supervisorScript = join(root, 'test', 'fixtures', 'cluster', 'supervisor.mjs');

export function assertBuilt(): void {
  const src = join(root, 'src', 'cluster');
  const newestSource = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'cluster', 'worker-runtime.js')).mtimeMs;
  } catch {
    // missing
  }
  if (built < newestSource) throw new Error('dist/cluster is missing or older than src/cluster: run `npm run build` first');
}

/** Every pid a test started (workers, supervisors): killed after each test, whatever happened. */
export const startedPids = new Set<number>();

export function reapAll(): void {
  for (const pid of startedPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  startedPids.clear();
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface TestPool {
  pool: WorkerPool;
  port: number;
  logs: Record<string, unknown>[];
  exits: WorkerExit[];
  starts: WorkerHandle[];
  ready: WorkerHandle[];
}

const pools = new Set<WorkerPool>();

export type TestPoolOptions = Partial<Omit<PoolOptions, 'spec' | 'logger'>> & { count?: number; env?: Record<string, string> };

/** A pool of echo workers on 127.0.0.1:0, logging into `logs`. */
export async function startTestPool(options: TestPoolOptions = {}): Promise<TestPool> {
  const sink = new PassThrough();
  const logs: Record<string, unknown>[] = [];
  let pending = '';
  sink.on('data', (d: Buffer) => {
    pending += d.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exits: WorkerExit[] = [];
  const starts: WorkerHandle[] = [];
  const ready: WorkerHandle[] = [];
  const { count = 3, env, ...rest } = options;
  const pool = await startPool({
    listen: [{ host: '127.0.0.1', port: 0, loc: undefined }],
    workerStdio: 'ignore',
    ...rest,
    spec: echoSpec(count, env),
    logger: createLogger({ level: 'debug', destination: sink }),
    onWorkerStart: (w) => {
      if (w.pid !== undefined) startedPids.add(w.pid);
      starts.push(w);
    },
    onWorkerReady: (w) => ready.push(w),
    onWorkerExit: (e) => exits.push(e),
  });
  pools.add(pool);
  return { pool, port: pool.listeners()[0]!.bound.port, logs, exits, starts, ready };
}

export function echoSpec(count: number, env: Record<string, string> = {}): PoolOptions['spec'] {
  return { entry: echoWorker, count, execArgv: [], env: { ...process.env, ...env } };
}

/** Stops every pool a test started (short deadline), then SIGKILLs whatever is left. */
export async function cleanUp(): Promise<void> {
  const stops = [...pools].map((p) => Promise.race([p.stop({ deadlineMs: 200 }), sleep(3000)]));
  pools.clear();
  await Promise.all(stops);
  reapAll();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface Answer {
  status: number;
  body: string;
  /** The request went over the connection an earlier request of this client used. */
  reused: boolean;
  pid: number;
  gen: string;
}

/** One keep-alive HTTP connection (an Agent with a single socket). */
export class KeepAliveClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1, keepAliveMsecs: 60_000 });

  constructor(private readonly port: number) {}

  get(path = '/'): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: this.port, path, agent: this.agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          const m = /pid (\d+) gen (\S+)/.exec(body);
          resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket, pid: Number(m?.[1]), gen: m?.[2] ?? '' });
        });
      });
      req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  /** Fires a request whose answer never comes (the worker crashes or hangs on it). */
  fire(path: string): void {
    const req = request({ host: '127.0.0.1', port: this.port, path, agent: this.agent });
    req.on('error', () => {});
    req.end();
  }

  close(): void {
    this.agent.destroy();
  }
}
