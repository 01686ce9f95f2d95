// Tests that hold thousands of sockets in the vitest worker itself need more descriptors than a
// default soft limit of 1024. The soft limit is raised to the hard one with prlimit(1) (util-linux),
// which may change the limits of a process of the same user; children inherit the raised limit.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

function openFilesLimit(): { soft: number; hard: number } {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  const [soft, hard] = line.slice('Max open files'.length).trim().split(/\s+/);
  const value = (v: string | undefined): number => (v === 'unlimited' ? Infinity : Number(v));
  return { soft: value(soft), hard: value(hard) };
}

/** Makes sure this process may hold `needed` descriptors; throws saying why when it cannot. */
export function ensureFileLimit(needed: number): void {
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) return;
  if (hard < needed) throw new Error(`this test needs ${needed} open files; the hard limit is ${hard} (raise it: ulimit -Hn, or LimitNOFILE)`);
  const r = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { encoding: 'utf8' });
  if (r.status !== 0 || openFilesLimit().soft < needed) {
    throw new Error(`this test needs ${needed} open files; raising the soft limit ${soft} with prlimit failed: ${r.error?.message ?? r.stderr}`);
  }
}
