// The native adapter's own cost per socket read, without sockets (npm run bench, or node
// bench/native-adapter.bench.mjs): the messages of one read handed to the C echo plugin
// (build/plugins/echo.so) through the adapter, the helper and the pump, its replies handed back to
// a connection that takes them and writes nothing, against the same messages through the JS echo
// (handlers/echo.mjs) to the same connection, in the same process and run. What the C path adds per
// read is the difference: the batch, the koffi call, the plugin's on_message calls and the helper's
// records, the records read back and turned into sends. `ws` has no plugin path: the JS handler,
// whose echo here is a call and a counter, is the baseline, and "C adds" what the C path costs per
// message beyond it. Medians of RUNS runs of READS reads each (after a warm-up), the two
// alternating. Run it from another tree's checkout (after its build) for before/after figures.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const plugin = resolve(root, 'build/plugins/echo.so');
const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 7);
const READS = 50_000;
/** `turns`: each read in an event-loop turn of its own, as a busy server's reads often are (what
 *  the pump does once per turn shows there; the await costs both sides the same). */
const CASES = [
  { label: '32 B x 64', size: 32, count: 64 },
  { label: '1 KiB x 16', size: 1024, count: 16 },
  { label: '16 KiB x 4', size: 16 * 1024, count: 4 },
  { label: '16 KiB x 4, a read per turn', size: 16 * 1024, count: 4, turns: true },
];

if (!existsSync(plugin)) {
  console.log('native adapter bench skipped: build/plugins/echo.so is not built (no C compiler at install)');
  process.exit(0);
}
const { loadNativeHandler } = await import(pathToFileURL(resolve(root, 'dist/plugins/native/index.js')).href);
const jsEcho = (await import(pathToFileURL(resolve(root, 'handlers/echo.mjs')).href)).default;
const log = pino({ level: 'silent' });

/** The gateway's connection as the adapter sees it (plain RFC 6455 frames, so the helper frames
 *  small replies as it does for a real one), counting what it is given. */
function sinkConnection() {
  const conn = {
    headers: { host: '127.0.0.1' },
    protocols: [],
    log,
    path: '/c',
    query: new URLSearchParams(),
    remoteAddress: '127.0.0.1',
    remotePort: 1,
    connectedAt: new Date(),
    state: undefined,
    sendsPlainFrames: true,
    messages: 0,
    setHeader() {},
    selectProtocol() {},
    send() {
      conn.messages++;
      return true;
    },
    sendFrames(_frames, count) {
      conn.messages += count;
      return true;
    },
    ping: () => true,
    pong: () => true,
    close() {},
  };
  return conn;
}

/** One read's worth of masked-and-unmasked bytes: `count` messages of `size`, each behind a frame
 *  header's worth of room, all views of one piece of memory (as the decoder hands them on). */
function readOf({ size, count }) {
  const stride = size + 8;
  const memory = Buffer.alloc(stride * count, 0x61);
  return Array.from({ length: count }, (_, i) => memory.subarray(i * stride + 8, i * stride + 8 + size));
}

async function cpuNs(run) {
  const start = process.cpuUsage();
  await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) * 1000;
}

const nextTurn = () => new Promise((done) => setImmediate(done));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const handler = await loadNativeHandler(
  { kind: 'native', path: plugin, init: 'echo_init', loc: { file: 'bench', line: 1, column: 1 } },
  { location: '/c', handlerPath: plugin, log, settings: { sendQueueLimit: 1 << 28 } },
);
const native = sinkConnection();
native.state = handler.onConnect(native);
await new Promise((done) => setTimeout(done, 20)); // the adapter opens the connection after the 101 would be out
const js = sinkConnection();

console.log(`native adapter bench: node ${process.version}, medians of ${RUNS} runs of ${READS} reads, CPU ns per read (per message)`);
console.log('  read                          C plugin            JS handler          C adds per message');
for (const c of CASES) {
  const messages = readOf(c);
  const viaC = async () => {
    for (let r = 0; r < READS; r++) {
      handler.onReadStart(native);
      for (const m of messages) handler.onMessage(native, m, true);
      handler.onReadEnd(native);
      if (c.turns) await nextTurn();
    }
  };
  const viaJs = async () => {
    for (let r = 0; r < READS; r++) {
      for (const m of messages) jsEcho.onMessage(js, m, true);
      if (c.turns) await nextTurn();
    }
  };
  await viaC();
  await viaJs();
  const cNs = [];
  const jsNs = [];
  for (let run = 0; run < RUNS; run++) {
    cNs.push((await cpuNs(viaC)) / READS);
    jsNs.push((await cpuNs(viaJs)) / READS);
    await nextTurn(); // the pump's turn ends
  }
  const [cRead, jsRead] = [median(cNs), median(jsNs)];
  const cell = (ns) => `${ns.toFixed(0).padStart(7)} (${(ns / c.count).toFixed(1).padStart(6)})`;
  console.log(`  ${c.label.padEnd(27)} ${cell(cRead)}   ${cell(jsRead)}   ${((cRead - jsRead) / c.count).toFixed(1).padStart(8)} ns`);
}
const expected = (READS * (RUNS + 1)) * CASES.reduce((n, c) => n + c.count, 0);
if (native.messages !== expected || js.messages !== expected) {
  throw new Error(`replies: C ${native.messages}, JS ${js.messages}, expected ${expected} each`);
}
process.exit(0);
