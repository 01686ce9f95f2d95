// CLI start-up (npm run bench, or node bench/startup.bench.mjs): wall time of each verb in a fresh
// `node` process, from spawn to exit (serve: to its first `listening` log line), against a bare
// `node -e 0` in the same run. Median of WSGATE_STARTUP_RUNS (10) runs, the cases interleaved so
// that a noisy machine disturbs all of them alike. `ctl list` talks to a live gateway (one process,
// WebSocketWorkers 0) over its control socket, as a backend that shells out does.
//   npm run build && node bench/startup.bench.mjs
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, 'bin', 'wsgate.js');
const RUNS = Number(process.env.WSGATE_STARTUP_RUNS ?? 10);
const env = { PATH: process.env.PATH ?? '', WSGATE_LOG_LEVEL: 'info' };

const dir = mkdtempSync(join(tmpdir(), 'wsgate-startup-bench-'));
const socket = join(dir, 'control.sock');
const endpoint = `<Location /echo>\n  SetHandler websocket-handler\n  WebSocketHandler ${join(root, 'handlers/echo.mjs')}\n</Location>\n`;
const config = (name, lines) => {
  const file = join(dir, name);
  writeFileSync(file, `Listen 127.0.0.1:0\nLogLevel info\n${lines}${endpoint}`);
  return file;
};
const serveConf = config('serve.conf', '');
const serveOneConf = config('serve-one.conf', 'WebSocketWorkers 0\n');
const liveConf = config('live.conf', `WebSocketWorkers 0\nWebSocketControlSocket ${socket}\n`);

/** Runs node ARGS; resolves with the ms until exit, or until stdout matched `until` (then kills it). */
function time(args, until) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: dir });
    let out = '';
    let err = '';
    let ms;
    child.stdout.on('data', (d) => {
      out += d;
      if (until && ms === undefined && until.test(out)) {
        ms = Number(process.hrtime.bigint() - t0) / 1e6;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (ms === undefined) ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (until ? !until.test(out) : code !== 0) reject(new Error(`node ${args.join(' ')} exited ${code}: ${err.slice(0, 400)}`));
      else resolve(ms);
    });
  });
}

const listening = /"msg":"listening"/;
const cases = [
  { label: 'node -e 0', args: ['-e', '0'] },
  { label: 'wsgate --version', args: [cli, '--version'] },
  { label: 'wsgate ctl --help', args: [cli, 'ctl', '--help'] },
  { label: 'wsgate ctl --socket S list', args: [cli, 'ctl', '--socket', socket, 'list'] },
  { label: 'wsgate ctl -f FILE list', args: [cli, 'ctl', '-f', liveConf, 'list'] },
  { label: 'wsgate check -f FILE', args: [cli, 'check', '-f', serveConf] },
  { label: 'wsgate serve (workers auto), to listening', args: [cli, 'serve', '-f', serveConf], until: listening },
  { label: 'wsgate serve (WebSocketWorkers 0), to listening', args: [cli, 'serve', '-f', serveOneConf], until: listening },
];

const live = spawn(process.execPath, [cli, 'serve', '-f', liveConf], { stdio: ['ignore', 'pipe', 'inherit'], env });
try {
  await new Promise((resolve, reject) => {
    let out = '';
    live.stdout.on('data', (d) => {
      out += d;
      if (out.includes('control socket listening')) resolve();
    });
    live.once('exit', (code) => reject(new Error(`the gateway for ctl exited with ${code}`)));
  });
  live.stdout.resume();
  const times = cases.map(() => []);
  for (let run = 0; run < RUNS; run++) {
    for (const [i, c] of cases.entries()) times[i].push(await time(c.args, c.until));
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const base = median(times[0]);
  console.log(`start-up, median of ${RUNS} runs (ms; "over node" = minus bare node -e 0)`);
  console.log('| command | median | min–max | over node |\n|---|---|---|---|');
  for (const [i, c] of cases.entries()) {
    const m = median(times[i]);
    const sorted = [...times[i]].sort((a, b) => a - b);
    console.log(`| ${c.label} | ${m.toFixed(0)} ms | ${sorted[0].toFixed(0)}–${sorted.at(-1).toFixed(0)} | ${i === 0 ? '—' : `+${(m - base).toFixed(0)} ms`} |`);
  }
} finally {
  live.kill('SIGTERM');
  await new Promise((resolve) => (live.exitCode !== null ? resolve() : live.once('exit', resolve)));
  rmSync(dir, { recursive: true, force: true });
}
