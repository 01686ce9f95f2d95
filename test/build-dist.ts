// dist/ (what bin/wsgate.js and forked workers run) for tests that spawn the real command. Built
// only when the sources are newer: CI's `npm ci` has built it already, and rewriting it while another
// test file's process is loading it hands that process a half-written module.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from './server/config-fixture.js';

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
