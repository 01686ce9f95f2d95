// What the benches that load a server process need in common: the C load generator (wsload.c), and
// the server's own cost read from /proc around a run — CPU time (user + sys) and read/write system
// calls of the whole process tree, which a noisy shared box disturbs far less than throughput.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLK_TCK = 100; // /proc times are in USER_HZ, 100 on Linux
const here = dirname(fileURLToPath(import.meta.url));

/** The pids of rootPid's tree (itself included), from /proc's parent links. */
function treePids(rootPid) {
  const parent = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const pids = [];
  for (const pid of parent.keys()) {
    for (let p = pid; p > 1; p = parent.get(p) ?? 0) {
      if (p === rootPid) {
        pids.push(pid);
        break;
      }
    }
  }
  return pids;
}

/** user + sys ms of one /proc stat file (a process's, or one thread's under /proc/PID/task). */
function statCpuMs(path) {
  const fields = readFileSync(path, 'utf8');
  const f = fields.slice(fields.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / CLK_TCK;
}

/** user + sys ms of a process's main thread: its event loop, for Node (without GC helpers,
 *  libuv's pool or a native plugin's own threads). */
export function mainThreadCpuMs(pid) {
  return statCpuMs(`/proc/${pid}/task/${pid}/stat`);
}

/** user + sys ms of pid and all its descendants. */
export function treeCpuMs(rootPid) {
  let total = 0;
  for (const pid of treePids(rootPid)) {
    try {
      total += statCpuMs(`/proc/${pid}/stat`);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** The tree's cost so far: CPU ms and read/write system calls (/proc/PID/io `syscr`/`syscw` count
 *  every read-like and write-like call of all the process's threads: read, readv, write, writev…). */
export function treeCost(rootPid) {
  let reads = 0;
  let writes = 0;
  for (const pid of treePids(rootPid)) {
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'utf8');
      reads += Number(/syscr: (\d+)/.exec(io)?.[1] ?? 0);
      writes += Number(/syscw: (\d+)/.exec(io)?.[1] ?? 0);
    } catch {
      // gone meanwhile, or /proc/PID/io not readable (another user's process)
    }
  }
  return { cpuMs: treeCpuMs(rootPid), reads, writes };
}

/** Compiles bench/NAME.c with the system cc; the program's path, or undefined when there is no C compiler. */
function buildC(name) {
  const out = join(mkdtempSync(join(tmpdir(), `wsgate-${name}-`)), name);
  const r = spawnSync('cc', ['-O2', '-o', out, join(here, `${name}.c`)], { encoding: 'utf8' });
  return r.status === 0 ? out : undefined;
}

/** The C load generator (wsload.c). */
export function buildWsload() {
  return buildC('wsload');
}

/** The floor echo server (floor-echo.c): started on a free port, `{ pid, port, stop }`. */
export function startFloorEcho() {
  const program = buildC('floor-echo');
  if (program === undefined) return Promise.reject(new Error('floor-echo needs a C compiler (cc)'));
  const child = spawn(program, ['0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^port (\d+)\n/.exec(out);
      if (m) ok({ pid: child.pid, port: Number(m[1]), stop: () => child.kill('SIGKILL') });
    });
    child.once('exit', (code) => fail(new Error(`floor-echo exited with ${code}: ${out}`)));
  });
}

/** One closed-loop run: `{ connections, window, size, text? }` on ws://127.0.0.1:PORT/PATH. */
export function runWsload(wsload, port, path, c, seconds) {
  return new Promise((ok, fail) => {
    const args = ['127.0.0.1', String(port), path, String(c.connections), String(c.window), String(c.size), String(seconds)];
    if (c.text) args.push('text');
    const child = spawn(wsload, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.once('exit', (code) => {
      const m = /^echoes (\d+) seconds ([\d.]+)(?: p50_us (\d+) p99_us (\d+))?/.exec(out);
      if (code === 0 && m) ok({ echoes: Number(m[1]), seconds: Number(m[2]), p50Us: Number(m[3]), p99Us: Number(m[4]) });
      else fail(new Error(`wsload exited with ${code}: ${out}`));
    });
  });
}

/** A warm-up, then a measured run with the server tree's cost per echo around it. */
export async function measuredRun(wsload, server, path, c, seconds) {
  await runWsload(wsload, server.port, path, c, Math.min(0.5, seconds));
  const before = treeCost(server.pid);
  const run = await runWsload(wsload, server.port, path, c, seconds);
  const after = treeCost(server.pid);
  return {
    rate: run.echoes / run.seconds,
    p50Us: run.p50Us,
    p99Us: run.p99Us,
    cpuUsPerEcho: ((after.cpuMs - before.cpuMs) * 1000) / run.echoes,
    writesPerEcho: (after.writes - before.writes) / run.echoes,
    readsPerEcho: (after.reads - before.reads) / run.echoes,
  };
}

export function median(xs) {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

/** `wsgate serve -f CONF` from `tree` (this checkout, or an older one for before/after rows), with its
 *  JSON log read until it serves: the first listener's port, and with worker processes the `serving`
 *  line (once every worker is ready). */
export function spawnWsgate(tree, conf) {
  // Run as a program, as users run it: the shebang's node options apply.
  const child = spawn(join(tree, 'bin/wsgate.js'), ['serve', '-f', conf], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, WSGATE_LOG_LEVEL: 'info' },
  });
  return new Promise((ok, fail) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n').filter((l) => l.startsWith('{') && l.endsWith('}')).map((l) => JSON.parse(l));
      const listening = lines.find((l) => l.msg === 'listening');
      if (!listening) return;
      if (listening.workers !== undefined && !lines.some((l) => l.msg === 'serving')) return;
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      ok({ child, pid: child.pid, port: Number(/:(\d+)$/.exec(listening.address)[1]) });
    });
    child.once('exit', (code) => fail(new Error(`wsgate exited with ${code}: ${out}`)));
  });
}

