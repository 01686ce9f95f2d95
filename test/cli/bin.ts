// The real `wsgate` command (bin/wsgate.js on dist/), spawned as a user runs it.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../server/config-fixture.js';
import { runProcess, type ProcessResult } from '../run-process.js';

export const bin = resolve(repoRoot, 'bin/wsgate.js');

/** Newest modification time of the files under `dir`. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Compiles the sources to dist/ when they changed since the last build (tsc emits even while another
 *  area has type errors). A fresh dist/ (CI after `npm ci`) is left alone: rewriting it while another
 *  test file runs the command could hand that one a half-written module. */
export function buildDist(): void {
  const main = resolve(repoRoot, 'dist/cli/main.js');
  if (existsSync(main) && statSync(main).mtimeMs >= newest(resolve(repoRoot, 'src'))) return;
  spawnSync(process.execPath, [resolve(repoRoot, 'scripts/build.mjs'), '--quiet'], { cwd: repoRoot, stdio: 'ignore' });
  if (!existsSync(main)) throw new Error('npm run build did not produce dist/');
}

/** Runs `wsgate ARGS` to completion (killed after 15 s), with `input` on its stdin. */
export function wsgate(args: string[], options: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { WSGATE_LOG_LEVEL: 'info', ...options.env },
    ...(options.input !== undefined && { input: options.input }),
    timeoutMs: 15_000,
  });
}
