// glibc malloc tuning of serving processes (src/server/malloc-tuning.ts): in a child process, the
// same churn of large buffers (allocated, filled, freed, as socket reads and large messages are)
// faults far fewer pages in once the settings are applied.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { tuneMalloc } from '../../src/server/malloc-tuning.js';
import { repoRoot } from '../native/helpers.js';
import { buildOnce } from './spawned-serve.js';

// Each buffer is a page larger than the last, so glibc's default adjustment (it raises its mmap
// threshold to the size of an mmapped block it frees) never catches up: by default every one is
// mmapped and faulted in page by page, whereas with the settings they come from the heap the ones
// before were freed into. A collection after each (on the main thread alone) frees it at once: with
// frees left to chance the default's count depended on when collections ran (28,000 to 208,000
// faults for a churn of many equal sizes).
const CHURN = `
import { readFileSync } from 'node:fs';
const { tuneMalloc } = await import(process.env.TUNING_MODULE);
const minflt = () => Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[7]);
const tuning = process.env.TUNE === '1' ? tuneMalloc() : 'default';
const before = minflt();
for (let i = 0; i < 500; i++) {
  Buffer.allocUnsafeSlow(256 * 1024 + i * 4096).fill(1);
  globalThis.gc();
}
console.log(JSON.stringify({ tuning, faults: minflt() - before }));
`;

function churn(tune: boolean): { tuning: string; faults: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', '--single-threaded-gc', '--input-type=module', '-e', CHURN], {
    encoding: 'utf8',
    env: { ...process.env, GLIBC_TUNABLES: '', TUNE: tune ? '1' : '0', TUNING_MODULE: pathToFileURL(join(repoRoot, 'dist/server/malloc-tuning.js')).href },
  });
  if (r.status !== 0) throw new Error(`churn child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { tuning: string; faults: number };
}

const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime !== undefined;

describe.skipIf(!glibc)('malloc tuning (glibc)', () => {
  beforeAll(() => buildOnce());

  it('keeps freed memory for reuse: the same churn faults far fewer pages', () => {
    const plain = churn(false);
    const tuned = churn(true);
    expect(tuned.tuning).toBe('applied');
    // Measured: ~161,000 against ~700.
    expect(tuned.faults).toBeLessThan(plain.faults * 0.1);
  });

  it("leaves an operator's GLIBC_TUNABLES (or MALLOC_*_ variables) alone", () => {
    expect(tuneMalloc({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1048576' })).toBe('operator');
    expect(tuneMalloc({ MALLOC_MMAP_THRESHOLD_: '65536' })).toBe('operator');
  });
});
