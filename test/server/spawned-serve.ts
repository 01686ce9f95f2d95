// `node bin/wsgate.js serve` as a user runs it, with its JSON log lines parsed: for tests of what an
// operator sees. Every process started here is killed by stopAll() (call it in afterAll).
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot } from './config-fixture.js';

export interface ServeProcess {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

const started: ServeProcess[] = [];

/** dist/ up to date with the sources (what bin/wsgate.js runs). */
export { buildDist as buildOnce } from '../build-dist.js';

export function startServe(args: string[], env: NodeJS.ProcessEnv = {}): ServeProcess {
  // The default level (info) unless a test asks otherwise: what an operator gets out of the box.
  const { WSGATE_LOG_LEVEL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [resolve(repoRoot, 'bin/wsgate.js'), 'serve', ...args], {
    cwd: repoRoot,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const served: ServeProcess = { child, stdout: '', stderr: '', exit: new Promise((r) => child.once('exit', (code) => r(code))) };
  started.push(served);
  child.stdout!.on('data', (d: Buffer) => (served.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (served.stderr += d.toString()));
  return served;
}

export function stopAll(): void {
  for (const served of started.splice(0)) if (served.child.exitCode === null) served.child.kill('SIGKILL');
}

export type LogLine = Record<string, unknown> & { msg: string; level: number };

export function logLines(served: ServeProcess): LogLine[] {
  return served.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

/** The log lines with message `msg` matching `fields`, once there are `count` of them (20 s at most). */
export async function waitForLog(served: ServeProcess, msg: string, fields: Record<string, unknown> = {}, count = 1): Promise<LogLine[]> {
  const deadline = Date.now() + 20_000;
  const matching = (): LogLine[] =>
    logLines(served).filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => JSON.stringify(l[k]) === JSON.stringify(v)));
  while (Date.now() < deadline) {
    const found = matching();
    if (found.length >= count) return found;
    if (served.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${count}× '${msg}' ${JSON.stringify(fields)}; stdout=${served.stdout} stderr=${served.stderr}`);
}

/** host:port of the first listener, once connections are served: with worker processes (the
 *  supervisor's `listening` line names `workers`) that is at its `serving` line; until then the
 *  supervisor only holds new connections. */
export async function listeningAddress(served: ServeProcess): Promise<string> {
  const [line] = await waitForLog(served, 'listening');
  if (line!.workers !== undefined) await waitForLog(served, 'serving');
  return line!.address as string;
}
