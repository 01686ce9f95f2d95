// The least a Node server does per echo (bench/hotpath.bench.mjs's "floor (Node)" row): the
// handshake, then each socket read into one shared buffer as wsgate's sockets read
// (SharedReads from dist/), frames found with no checks beyond their lengths, payloads unmasked
// by bufferutil straight out of the reads (no copy first), and each read's echoes written under
// one cork: a header and the payload per frame (one buffer up to 1 KiB), glibc malloc tuned as a
// serving wsgate process tunes it. No validation, limits, control frames, UTF-8 checks or close
// handshake: not a WebSocket server, the price of Node's own read and write path at this load.
// Started by the bench with an IPC channel: sends { port } once listening, exits on disconnect.
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { SharedReads } = await import(pathToFileURL(resolve(root, 'dist/server/shared-read.js')).href);
const { tuneMalloc } = await import(pathToFileURL(resolve(root, 'dist/server/malloc-tuning.js')).href);
const { NATIVE_MIN_BYTES } = await import(pathToFileURL(resolve(root, 'dist/protocol/unmask.js')).href);
const { encodeFrame } = await import(pathToFileURL(resolve(root, 'dist/protocol/hybi-encoder.js')).href);
const { hybiAcceptKey, hybiResponse } = await import(pathToFileURL(resolve(root, 'dist/protocol/index.js')).href);
const bufferutil = createRequire(import.meta.url)('bufferutil');
const reads = new SharedReads();
/** Up to this size frames are copied, header and payload, into one buffer per read that goes out
 *  in one piece (as wsgate merges small frames): two chunks a frame cost more than the copy. */
const MERGE_MAX = 1024;
// As a serving wsgate process: freed memory kept, large blocks from the heap.
tuneMalloc();

/** One connection's echo. A frame's header is gathered into `head` (it may be cut by a read's
 *  end); its payload is unmasked straight out of the reads into where it is written from: for a
 *  frame that lies whole in a read, `out` at the same place (replaced when the socket did not take
 *  a read's echoes at once: they still refer to it), else a buffer of its own. */
function echoer(socket) {
  let out = Buffer.allocUnsafe(reads.size);
  const head = Buffer.alloc(14);
  let headLength = 0;
  /** The frame whose payload is arriving: its header and where its payload goes. */
  let frame;
  let filled = 0;
  const rotated = Buffer.alloc(4);

  /** Header bytes needed so far: 2, then the extended length and the mask key. */
  const headNeeds = () => (headLength < 2 ? 2 : ((head[1] & 0x7f) === 126 ? 4 : (head[1] & 0x7f) === 127 ? 10 : 2) + 4);

  return function receive(read) {
    let at = 0;
    // A read's small echoes: never longer than the read (a server frame is 4 bytes shorter than the
    // client's), but for one whose start came with the read before.
    let merged;
    let mergedLength = 0;
    const flushMerged = () => {
      if (mergedLength > 0) socket.write(merged.subarray(0, mergedLength));
      merged = undefined;
      mergedLength = 0;
    };
    socket.cork();
    while (at < read.length) {
      // A small frame whole in this read: unmasked straight into the read's merged echoes (by a
      // byte loop below wsgate's NATIVE_MIN_BYTES, where it beats a native call, else by bufferutil).
      if (frame === undefined && headLength === 0 && read.length - at >= 6 && (read[at + 1] & 0x7f) <= 126) {
        const wide = (read[at + 1] & 0x7f) === 126;
        const length = wide ? (read[at + 2] << 8) | read[at + 3] : read[at + 1] & 0x7f;
        const key = at + (wide ? 4 : 2);
        const start = key + 4;
        if (length <= MERGE_MAX && read.length - start >= length) {
          merged ??= Buffer.allocUnsafe(read.length + 2 * MERGE_MAX);
          if (mergedLength + 4 + length > merged.length) {
            flushMerged();
            merged = Buffer.allocUnsafe(read.length + 2 * MERGE_MAX);
          }
          merged[mergedLength] = read[at];
          merged[mergedLength + 1] = wide ? 126 : length;
          if (wide) merged.writeUInt16BE(length, mergedLength + 2);
          const payloadAt = mergedLength + (wide ? 4 : 2);
          if (length < NATIVE_MIN_BYTES) for (let i = 0; i < length; i++) merged[payloadAt + i] = read[start + i] ^ read[key + (i & 3)];
          else bufferutil.mask(read.subarray(start, start + length), read.subarray(key, start), merged, payloadAt, length);
          mergedLength = payloadAt + length;
          at = start + length;
          continue;
        }
      }
      if (frame === undefined) {
        const start = at;
        while (headLength < headNeeds() && at < read.length) head[headLength++] = read[at++];
        if (headLength < headNeeds()) break;
        const short = head[1] & 0x7f;
        const length = short === 126 ? head.readUInt16BE(2) : short === 127 ? Number(head.readBigUInt64BE(2)) : short;
        const whole = at - start === headLength && read.length - at >= length;
        frame = { opcode: head[0] & 0x0f, mask: Buffer.from(head.subarray(headLength - 4, headLength)), length };
        frame.target = whole && at + length <= out.length ? out.subarray(at, at + length) : Buffer.allocUnsafe(length);
        filled = 0;
        headLength = 0;
      }
      const n = Math.min(read.length - at, frame.length - filled);
      let mask = frame.mask;
      if (filled % 4 !== 0) {
        for (let i = 0; i < 4; i++) rotated[i] = mask[(filled + i) % 4];
        mask = rotated;
      }
      if (n > 0) bufferutil.mask(read.subarray(at, at + n), mask, frame.target, filled, n);
      filled += n;
      at += n;
      if (filled < frame.length) break;
      // The frames the fast path above did not take (cut by a read's end, or large) as wsgate encodes them.
      flushMerged();
      for (const chunk of encodeFrame(frame.opcode, frame.target)) socket.write(chunk);
      frame = undefined;
    }
    flushMerged();
    socket.uncork();
    if (socket.writableLength > 0 || frame !== undefined) out = Buffer.allocUnsafe(reads.size);
  };
}

const server = createServer((socket) => {
  socket.on('error', () => socket.destroy());
  let request = '';
  socket.on('data', function handshake(chunk) {
    request += chunk.toString('latin1');
    const end = request.indexOf('\r\n\r\n');
    if (end < 0) return;
    socket.removeListener('data', handshake);
    socket.pause();
    const key = /^sec-websocket-key: *(\S+)/im.exec(request)?.[1] ?? '';
    socket.write(hybiResponse(hybiAcceptKey(key), undefined, []));
    const receive = echoer(socket);
    const early = Buffer.from(request.slice(end + 4), 'latin1');
    const buffered = reads.attach(socket, receive);
    if (buffered === undefined) throw new Error('this Node cannot read into a shared buffer');
    if (early.length > 0) receive(early);
    if (buffered.length > 0) receive(buffered);
    socket.resume();
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
process.on('disconnect', () => process.exit(0));
