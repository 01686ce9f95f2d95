// V8 options for the processes that serve connections: worker processes get them from the
// supervisor; bin/wsgate.js's shebang gives them to the process it starts (for WebSocketWorkers 0).
// Each is measured in bench/hotpath.bench.mjs (README, Benchmarks).
//
// The old-generation floor. A gateway's heap is small (about 10 MB live) and its per-message path
// allocates little on the JS heap, while every socket read arrives in an ArrayBuffer that Node
// allocates outside it. With the limits V8 derives from a 10 MB heap (a full GC once the old
// generation grows ~16 MB), each young collection found the old generation "close enough" to its
// limit and started a full mark-compact: at 16 KiB echoes one ran every ~30 ms, about a quarter of
// the process's CPU, with pauses that set the p99 (measured with --trace-gc and
// --trace-incremental-marking). A floor under the old generation's limit removes that: young
// collections free the read buffers, and full collections happen when the heap has really grown.
// The floor costs memory only as garbage that a busy worker may hold before its first full GC (an
// idle one is compacted by V8's memory reducer).
//
// Young collections on the main thread alone. What remains under load is a young collection each
// time 32 MB of new ArrayBuffers (the read buffers) have been allocated, every 20–30 ms at 16 KiB
// echoes; such a collection finds almost nothing alive (~4 KB), so handing its work to helper
// threads only adds the hand-off, and on a busy box the helpers wait for a core that the workers,
// one per core, are using: pauses 0.5–0.6 ms with helpers, 0.4 ms without (--trace-gc-nvp), which
// shows in the p99 of every message that was in flight at the time.
//
// A floor under the young generation. Since reads reuse memory (src/server/shared-read.ts), young
// collections come when the young generation is full (~820 bytes of short-lived objects per 16 KiB
// echo). V8 sizes it by what survives: a busy start grows it (to ~8 MB a semi-space here), but the
// first collection after a few idle seconds shrinks it, and steady traffic, where almost nothing
// survives, does not grow it back. At 16 KiB echoes a gateway that had been idle then collected
// every ~1,100 echoes instead of every ~7,000 (--trace-gc), and those pauses set the p99 of the
// messages in flight (p99/p50 4.9–5.2 after 10 idle seconds, 2.3–2.6 without them). A floor of
// 8 MB a semi-space, the size V8 picks under load, keeps it: p99/p50 2.4–2.5 after idle, for ~24 MB
// more resident memory than a shrunk process (4 MB: a collection every ~3,900 echoes, p99/p50
// 2.6–2.9, and 2.7–3.2 in the hot-path bench, for 3–10 MB more).

/** The floor, in MB, for V8's old-generation limit. */
export const OLD_SPACE_FLOOR_MB = 64;

/** The floor, in MB, for each of the young generation's two semi-spaces. */
export const SEMI_SPACE_FLOOR_MB = 8;

/** A node option serving processes get, unless the operator set the same option (either spelling,
 *  either polarity). */
interface ServingOption {
  readonly arg: string;
  readonly chosen: RegExp;
}

/** What serving processes run with (bin/wsgate.js's shebang says the same, in this order). */
export const SERVING_NODE_OPTIONS: readonly ServingOption[] = [
  { arg: `--initial-old-space-size=${OLD_SPACE_FLOOR_MB}`, chosen: /^--initial[-_]old[-_]space[-_]size\b/ },
  { arg: '--no-parallel-scavenge', chosen: /^--(no[-_])?parallel[-_]scavenge$/ },
  { arg: `--min-semi-space-size=${SEMI_SPACE_FLOOR_MB}`, chosen: /^--(min|max)[-_]semi[-_]space[-_]size\b/ },
];

/** The supervisor's node options plus SERVING_NODE_OPTIONS, less those the operator chose (on
 *  node's own command line or in NODE_OPTIONS). */
export function workerExecArgv(parentExecArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...parentExecArgv, ...nodeOptions.split(/\s+/)];
  const added = SERVING_NODE_OPTIONS.filter((option) => !given.some((arg) => option.chosen.test(arg))).map((option) => option.arg);
  return [...parentExecArgv, ...added];
}
