// glibc malloc settings for a process that serves connections, set with mallopt(3) once it serves.
//
// Node allocates a 64 KiB buffer for every socket read, and large messages need large buffers; with
// glibc's defaults freed memory at the top of the heap is given back to the kernel as soon as
// 128 KiB of it are free (and blocks from 128 KiB up are mmap'd and unmapped one by one), so the
// next allocations fault the same pages in again. Whether a process fell into that cycle depended
// on its heap's layout: at 16 KiB echoes, runs measured 0.09 or 0.39 page faults and 16 or 29 µs of
// CPU per echo, at random. With freed memory kept up to TRIM_THRESHOLD and blocks below
// MMAP_THRESHOLD taken from the heap, every run measured ~0.075 faults and ~16 µs, and 1 MiB echoes
// fell from 850–950 to 680–830 µs (bench/hotpath.bench.mjs). The cost: up to TRIM_THRESHOLD of
// freed memory a process may keep resident.
//
// mallopt is reached through koffi (already a dependency, for C plugins) after the process serves,
// so start-up does not wait for it. Not glibc (musl, macOS): nothing is done. GLIBC_TUNABLES naming
// either setting means the operator chose: nothing is done either.
import { createRequire } from 'node:module';

/** Freed heap memory kept before giving it back to the kernel. */
export const TRIM_THRESHOLD = 32 * 1024 * 1024;
/** Blocks from this size up are mmap'd (and unmapped when freed). */
export const MMAP_THRESHOLD = 4 * 1024 * 1024;
// mallopt(3) parameter numbers (glibc's malloc.h).
const M_TRIM_THRESHOLD = -1;
const M_MMAP_THRESHOLD = -3;

export type MallocTuning = 'applied' | 'operator' | 'unavailable';

/** Applies the settings (once per process); says what happened. */
export function tuneMalloc(env: NodeJS.ProcessEnv = process.env): MallocTuning {
  if (/glibc\.malloc\.(trim|mmap)_threshold/.test(env.GLIBC_TUNABLES ?? '') || env.MALLOC_TRIM_THRESHOLD_ || env.MALLOC_MMAP_THRESHOLD_) return 'operator';
  if (process.platform !== 'linux') return 'unavailable';
  try {
    // musl has no libc.so.6: the load fails there.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const mallopt = koffi.load('libc.so.6').func('int mallopt(int param, int value)') as (param: number, value: number) => number;
    return mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) === 1 && mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) === 1 ? 'applied' : 'unavailable';
  } catch {
    return 'unavailable';
  }
}
