// A pipelining client that costs the client almost nothing, so the server is what is measured:
// each connection writes one pre-built buffer of masked frames (built once per burst shape) and
// counts the echoed bytes instead of parsing them. With a full `ws` client, masking and framing
// 16 KiB messages in the one client process was the bottleneck, and the ratios measured it.
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';

/** Opens a raw RFC 6455 connection to ws://HOST:PORT/PATH; resolves once the 101 is read. */
export function openRaw(url) {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((ok, fail) => {
    const socket = connect({ host: hostname, port: Number(port), noDelay: true });
    const key = randomBytes(16).toString('base64');
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(
        `GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      if (!head.subarray(0, 12).toString('latin1').startsWith('HTTP/1.1 101')) {
        fail(new Error(`no 101 from ${url}: ${head.subarray(0, end).toString('latin1')}`));
        socket.destroy();
        return;
      }
      ok(socket);
    };
    socket.on('data', onData);
  });
}

function serverHeaderLength(size) {
  return size < 126 ? 2 : size < 0x10000 ? 4 : 10;
}

/** One masked client frame (FIN set) carrying `payload`. */
function maskedFrame(opcode, payload) {
  const size = payload.length;
  const header = serverHeaderLength(size) + 4;
  const frame = Buffer.alloc(header + size);
  frame[0] = 0x80 | opcode;
  if (size < 126) frame[1] = 0x80 | size;
  else if (size < 0x10000) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(size, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeBigUInt64BE(BigInt(size), 2);
  }
  const mask = randomBytes(4);
  mask.copy(frame, header - 4);
  for (let i = 0; i < size; i++) frame[header + i] = payload[i] ^ mask[i & 3];
  return frame;
}

/** `count` masked binary frames of `size` bytes, back to back, and the bytes their echo takes. */
export function buildBurst(size, count) {
  const frame = maskedFrame(0x2, Buffer.alloc(size, 0x62));
  return { data: Buffer.concat(Array(count).fill(frame)), echoBytes: count * serverFrameLength(size) };
}

/** Bytes of an unmasked frame (what a server sends) with a payload of `size`. */
export function serverFrameLength(size) {
  return serverHeaderLength(size) + size;
}

/** One masked text frame. */
export function maskedText(text) {
  return maskedFrame(0x1, Buffer.from(text));
}

/** Writes the burst on every socket; resolves when every echoed byte (`echoBytes` per socket) has come back. */
export function runBurst(sockets, burst) {
  return new Promise((done) => {
    let waiting = sockets.length;
    for (const socket of sockets) {
      let left = burst.echoBytes;
      const onData = (chunk) => {
        left -= chunk.length;
        if (left > 0) return;
        socket.off('data', onData);
        if (--waiting === 0) done();
      };
      socket.on('data', onData);
      socket.write(burst.data);
    }
  });
}
