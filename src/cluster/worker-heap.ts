// V8 heap options for the processes that serve connections: worker processes get them from the
// supervisor; bin/wsgate.js's shebang gives them to the process it starts (for WebSocketWorkers 0).
//
// A gateway's heap is small (about 10 MB live) and its per-message path allocates little on the JS
// heap, while every socket read arrives in an ArrayBuffer that Node allocates outside it. With the
// limits V8 derives from a 10 MB heap (a full GC once the old generation grows ~16 MB), each young
// collection found the old generation "close enough" to its limit and started a full mark-compact:
// at 16 KiB echoes one ran every ~30 ms, about a quarter of the process's CPU, with pauses that set
// the p99 (measured with --trace-gc and --trace-incremental-marking; bench/hotpath.bench.mjs).
// A floor under the old generation's limit removes that: young collections free the read buffers,
// and full collections happen when the heap has really grown. The floor costs memory only as
// garbage that a busy worker may hold before its first full GC (an idle one is compacted by V8's
// memory reducer).

/** The floor, in MB, for V8's old-generation limit (bin/wsgate.js's shebang says the same). */
export const OLD_SPACE_FLOOR_MB = 64;

/** The supervisor's Node options plus the heap floor, unless the operator chose one (NODE_OPTIONS
 *  or node's own command line). */
export function workerExecArgv(parentExecArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const chosen = [...parentExecArgv, ...nodeOptions.split(/\s+/)].some((arg) => /^--initial[-_]old[-_]space[-_]size\b/.test(arg));
  return chosen ? [...parentExecArgv] : [...parentExecArgv, `--initial-old-space-size=${OLD_SPACE_FLOOR_MB}`];
}
