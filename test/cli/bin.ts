// The real `wsgate` command (bin/wsgate.js on dist/), spawned as a user runs it.
import { resolve } from 'node:path';
import { repoRoot } from '../server/config-fixture.js';
import { runProcess, type ProcessResult } from '../run-process.js';

export { buildDist } from '../build-dist.js';

export const bin = resolve(repoRoot, 'bin/wsgate.js');

/** Runs `wsgate ARGS` to completion (killed after 15 s), with `input` on its stdin. */
export function wsgate(args: string[], options: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { WSGATE_LOG_LEVEL: 'info', ...options.env },
    ...(options.input !== undefined && { input: options.input }),
    timeoutMs: 15_000,
  });
}
