// Codec benchmark, run against the compiled dist/ (npm run bench, or node bench/codec.bench.mjs):
// wsgate's sans-I/O hybi codec against ws's own Receiver and Sender, in the same process and run,
// on the same bytes. ws uses bufferutil for (un)masking when it is installed, as it is here (a
// dependency of wsgate); WS_NO_BUFFER_UTIL=1 makes ws pure JS. The header line says which.
//  - unmask: our JS loop (applyMaskJs) against bufferutil's native unmask, and applyMask (what the
//    decoder calls: ours below NATIVE_MIN_BYTES, native from there up), on 32 B to 1 MiB;
//  - decode: masked client frames of 32 B, 125 B, 16 KiB and 1 MiB (binary and text), delivered in
//    64 KiB chunks as a socket would; both decoders unmask in place, so each run gets the masked
//    bytes copied in again before the clock starts. "in TLS records": 16 KiB frames in 16 KiB
//    chunks, as a wss:// socket delivers them (each frame's last 8 bytes come with the next chunk);
//  - decode, masking before/after: our decoder with the JS loop only (before: every size through
//    applyMaskJs) against the same decoder with applyMask's native loop (after);
//  - decode lent: reads of 256 KiB into one shared buffer, as the gateway's sockets read
//    (src/server/shared-read.ts; each read's bytes copied into it first, standing in for the
//    kernel, on both sides): each read copied out and decoded in place (before) against decoded
//    straight out of the shared buffer, payloads unmasked into a buffer of the read's size (after);
//  - encode+write: 32 B frames encoded and written to a 127.0.0.1 socket the way a server writes
//    them (one write for one chunk, cork + writes for several), timed until the last is flushed:
//    this shows what merging small frames into one buffer buys;
//  - encode: unmasked server frames of the same sizes (ENCODES frames per run; large payloads are
//    not copied by either side, so this is the per-frame cost).
// Medians of RUNS runs (after one warm-up run) of the process's CPU time (the encode+write row:
// wall time, as it waits for the socket), the two sides alternating so both see the same load;
// ratio = wsgate/ws throughput (> 1: wsgate faster), or after/before, or bufferutil/ours for the
// unmask rows. The geometric mean covers the wsgate/ws rows only.
import { randomFillSync } from 'node:crypto';
import { createRequire } from 'node:module';
import { connect, createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { createHybiDecoder, hybiEncoder } = await import(pathToFileURL(resolve(root, 'dist/protocol/index.js')).href);
const { applyMask, applyMaskJs, NATIVE_MIN_BYTES, nativeMaskAvailable, useNativeMask } = await import(
  pathToFileURL(resolve(root, 'dist/protocol/unmask.js')).href
);
const require = createRequire(import.meta.url);
const { Receiver, Sender } = require('ws');
const bufferutil = require('bufferutil');
const wsUsesBufferutil = !process.env.WS_NO_BUFFER_UTIL;

const RUNS = Number(process.env.WSGATE_BENCH_RUNS ?? 7);
const CHUNK = 64 * 1024;
const SIZES = [
  { label: '32 B', bytes: 32, count: 100_000 },
  { label: '125 B', bytes: 125, count: 50_000 },
  { label: '16 KiB', bytes: 16 * 1024, count: 2_000 },
  { label: '1 MiB', bytes: 1024 * 1024, count: 32 },
];

/** One masked client frame (RFC 6455 §5.2), built here so neither codec under test writes it. */
function clientFrame(opcode, payload) {
  const len = payload.length;
  const extra = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const out = Buffer.alloc(2 + extra + 4 + len);
  out[0] = 0x80 | opcode;
  if (extra === 0) out[1] = 0x80 | len;
  else if (extra === 2) (out[1] = 0x80 | 126), out.writeUInt16BE(len, 2);
  else (out[1] = 0x80 | 127), out.writeBigUInt64BE(BigInt(len), 2);
  const mask = randomFillSync(Buffer.alloc(4));
  mask.copy(out, 2 + extra);
  for (let i = 0; i < len; i++) out[6 + extra + i] = payload[i] ^ mask[i & 3];
  return out;
}

function payloadOf(bytes, text) {
  if (!text) return randomFillSync(Buffer.alloc(bytes));
  const unit = Buffer.from('wsgate ✓ κόσμε, ascii mostly. ');
  const out = Buffer.alloc(bytes, 0x61);
  for (let at = 0; at + unit.length <= bytes; at += unit.length) unit.copy(out, at);
  return out;
}

/** A function that returns `stream` in `size`-byte buffers, refilled from `stream` at each call:
 *  the same buffers every run, so no run pays for freeing the last one's 32 MiB (that made the
 *  large rows bimodal). */
function chunked(stream, size = CHUNK) {
  const chunks = [];
  for (let at = 0; at < stream.length; at += size) chunks.push(Buffer.allocUnsafeSlow(Math.min(size, stream.length - at)));
  return () => {
    chunks.forEach((chunk, i) => stream.copy(chunk, 0, i * size));
    return chunks;
  };
}

/** CPU time of this process (user + sys, GC threads included) in ms: on a machine shared with
 *  other work it is steadier than the wall clock, and CPU per message is what is being measured. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times ours and theirs alternately, RUNS+1 times each (the first pair is a warm-up), so both
 *  see the same machine load; prepare() runs outside the clock. Returns the median CPU ms of each. */
function race(prepare, ours, theirs) {
  const samples = { ours: [], theirs: [] };
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, fn] of [['ours', ours], ['theirs', theirs]]) {
      const input = prepare();
      const start = cpuMs();
      fn(input);
      const ms = cpuMs() - start;
      if (run > 0) samples[name].push(ms);
    }
  }
  return { ours: median(samples.ours), theirs: median(samples.theirs) };
}

/** Our decoder over `chunks`; `onMessage` hears each message. */
function decodeOurs(chunks, onMessage) {
  const decoder = createHybiDecoder(
    { onMessage, onPing() {}, onPong() {}, onClose() {}, onError: (e) => { throw e; } },
    { maxMessageSize: 64 * 1024 * 1024, requireMask: true },
  );
  for (const chunk of chunks) decoder.push(chunk);
}

/** `versus`: 'ws' (ours against ws's Receiver) or 'mask' (ours with the native mask against ours
 *  with the JS loop only: after/before). */
function decodeCase({ bytes, count }, text, versus = 'ws', chunkSize = CHUNK) {
  const frame = clientFrame(text ? 1 : 2, payloadOf(bytes, text));
  const stream = Buffer.concat(Array.from({ length: count }, () => frame));
  const prepare = chunked(stream, chunkSize);
  let received = 0;
  const ours = (chunks) => {
    useNativeMask(true);
    decodeOurs(chunks, () => void received++);
  };
  const result = race(
    prepare,
    ours,
    versus === 'ws'
      ? (chunks) => {
          const receiver = new Receiver({ isServer: true, maxPayload: 0, binaryType: 'nodebuffer' });
          receiver.on('message', () => void received--);
          receiver.on('error', (e) => { throw e; });
          for (const chunk of chunks) receiver.write(chunk);
        }
      : (chunks) => {
          useNativeMask(false);
          decodeOurs(chunks, () => void received--);
          useNativeMask(true);
        },
  );
  if (received !== 0) throw new Error(`decoders disagree on message count (${received})`);
  return { ...result, bytes: stream.length };
}

const SHARED_READ = 256 * 1024;

/** Our decoder over `stream` read SHARED_READ bytes at a time into one buffer: `lent` pushes each
 *  read lent with a buffer to keep it in, otherwise it is copied out and pushed. */
function decodeShared(stream, lent, onMessage) {
  const decoder = createHybiDecoder(
    { onMessage, onPing() {}, onPong() {}, onClose() {}, onError: (e) => { throw e; } },
    { maxMessageSize: 64 * 1024 * 1024, requireMask: true },
  );
  const shared = sharedReadBuffer;
  for (let at = 0; at < stream.length; at += SHARED_READ) {
    const n = Math.min(SHARED_READ, stream.length - at);
    stream.copy(shared, 0, at, at + n);
    const into = Buffer.allocUnsafe(n);
    if (lent) decoder.push(shared.subarray(0, n), into);
    else {
      shared.copy(into, 0, 0, n);
      decoder.push(into);
    }
  }
}
const sharedReadBuffer = Buffer.allocUnsafe(SHARED_READ);

function decodeLentCase({ bytes, count }) {
  const stream = Buffer.concat(Array.from({ length: count }, () => clientFrame(2, payloadOf(bytes, false))));
  let received = 0;
  const result = race(
    () => stream,
    (input) => decodeShared(input, true, () => void received++),
    (input) => decodeShared(input, false, () => void received--),
  );
  if (received !== 0) throw new Error(`decoders disagree on message count (${received})`);
  return { ...result, bytes: stream.length };
}

const UNMASK_SIZES = [
  { label: '32 B', bytes: 32 },
  { label: '125 B', bytes: 125 },
  { label: '1 KiB', bytes: 1024 },
  { label: '16 KiB', bytes: 16 * 1024 },
  { label: '1 MiB', bytes: 1024 * 1024 },
];

/** ns per call of each masking loop on one buffer of `bytes` (offset 1 in its ArrayBuffer, as a
 *  payload behind a frame header is; phases cycling 0-3), medians of RUNS alternating runs. */
function unmaskCase({ bytes }) {
  const data = Buffer.alloc(bytes + 1).subarray(1);
  randomFillSync(data);
  const mask = randomFillSync(Buffer.alloc(4));
  const calls = Math.max(64, Math.floor(64 * 1024 * 1024 / (bytes + 64)));
  const loops = {
    ours: (d, m, p) => applyMaskJs(d, m, p),
    bufferutil: (d, m) => bufferutil.unmask(d, m),
    applyMask: (d, m, p) => applyMask(d, m, p),
  };
  const samples = { ours: [], bufferutil: [], applyMask: [] };
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, fn] of Object.entries(loops)) {
      const start = cpuMs();
      for (let i = 0; i < calls; i++) fn(data, mask, i & 3);
      if (run > 0) samples[name].push(((cpuMs() - start) * 1e6) / calls);
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, ns]) => [name, median(ns)]));
}

function reportUnmask(size, { ours, bufferutil: native, applyMask: chosen }) {
  const mibs = (ns) => `${(size.bytes / 1024 / 1024 / (ns / 1e9)).toFixed(0).padStart(6)} MiB/s`;
  console.log(
    `${'unmask'.padEnd(14)} ${size.label.padStart(7)}  ours ${ours.toFixed(1).padStart(9)} ns ${mibs(ours)}` +
      `   bufferutil ${native.toFixed(1).padStart(9)} ns ${mibs(native)}   ratio ${(ours / native).toFixed(2)}` +
      `   applyMask ${chosen.toFixed(1).padStart(9)} ns`,
  );
}

const ENCODES = 200_000;

function encodeCase({ bytes }) {
  const count = ENCODES;
  const payload = payloadOf(bytes, false);
  let total = 0;
  const options = { fin: true, rsv1: false, opcode: 2, mask: false, readOnly: true };
  const result = race(
    () => null,
    () => {
      for (let i = 0; i < count; i++) total += hybiEncoder.message(payload, true).length;
    },
    () => {
      for (let i = 0; i < count; i++) total += Sender.frame(payload, options).length;
    },
  );
  if (total === 0) throw new Error('nothing encoded');
  return { ...result, frames: count };
}

const WRITES = 100_000;

/** Writes WRITES frames of `bytes` bytes on a loopback socket, ours and ws alternating. */
async function encodeWriteCase({ bytes }) {
  const server = createServer((socket) => socket.on('data', () => {}));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = connect(server.address().port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const payload = payloadOf(bytes, false);
  const options = { fin: true, rsv1: false, opcode: 2, mask: false, readOnly: true };
  const write = (chunks) => {
    if (chunks.length === 1) return socket.write(chunks[0]);
    socket.cork();
    for (const chunk of chunks) socket.write(chunk);
    socket.uncork();
  };
  const flushed = () => new Promise((resolve) => socket.write(Buffer.alloc(0), resolve));
  const samples = { ours: [], theirs: [] };
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, encode] of [['ours', () => hybiEncoder.message(payload, true)], ['theirs', () => Sender.frame(payload, options)]]) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < WRITES; i++) write(encode());
      await flushed();
      if (run > 0) samples[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  socket.destroy();
  server.close();
  return { ours: median(samples.ours), theirs: median(samples.theirs), bytes: bytes * WRITES };
}

const rate = ({ bytes, frames }, ms) =>
  frames === undefined
    ? `${(bytes / 1024 / 1024 / (ms / 1000)).toFixed(0).padStart(7)} MiB/s`
    : `${(frames / (ms / 1000) / 1e6).toFixed(2).padStart(7)} M frames/s`;
const rows = [];
/** `names`: what ours and theirs are called; only wsgate/ws rows go into the geometric mean. */
function report(name, size, result, names = ['wsgate', 'ws']) {
  const { ours, theirs } = result;
  const ratio = theirs / ours;
  if (names[1] === 'ws') rows.push(ratio);
  console.log(
    `${name.padEnd(14)} ${size.label.padStart(7)}  ${names[0]} ${ours.toFixed(2).padStart(8)} ms ${rate(result, ours)}` +
      `   ${names[1]} ${theirs.toFixed(2).padStart(8)} ms ${rate(result, theirs)}   ratio ${ratio.toFixed(2)}`,
  );
}

console.log(`codec bench: node ${process.version}, medians of ${RUNS} runs, ratio = wsgate/ws throughput (> 1: wsgate faster)`);
console.log(
  `masking: applyMask uses ${nativeMaskAvailable() ? `bufferutil's native loop from ${NATIVE_MIN_BYTES} B up` : 'our JS loop only (bufferutil binary not loaded)'};` +
    ` ws ${wsUsesBufferutil ? 'with' : 'without'} bufferutil`,
);
for (const size of UNMASK_SIZES) reportUnmask(size, unmaskCase(size));
for (const size of SIZES) report('decode binary', size, decodeCase(size, false));
for (const size of SIZES) report('decode text', size, decodeCase(size, true));
for (const size of SIZES) report('decode bin msk', size, decodeCase(size, false, 'mask'), ['after ', 'before']);
for (const size of SIZES) report('decode lent', size, decodeLentCase(size), ['after ', 'before']);
const SIXTEEN_KIB = SIZES.find((s) => s.bytes === 16 * 1024);
report('decode TLS rec', SIXTEEN_KIB, decodeCase(SIXTEEN_KIB, false, 'ws', 16 * 1024));
report('decode TLS txt', SIXTEEN_KIB, decodeCase(SIXTEEN_KIB, true, 'ws', 16 * 1024));
report('encode+write', SIZES[0], await encodeWriteCase(SIZES[0]));
for (const size of SIZES) report('encode binary', size, encodeCase(size));
const geo = Math.exp(rows.reduce((s, r) => s + Math.log(r), 0) / rows.length);
console.log(`geometric mean ratio: ${geo.toFixed(2)}`);
