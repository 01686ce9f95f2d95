// The replies made while one socket read is handled leave in one write (issue 16): a JS handler's
// sends and a C plugin's batch alike. Counted at the server socket's stream layer (_write/_writev
// calls: each is one write or writev system call), on the gateway's side of the connection only;
// reads are the connection's receive() calls. Most tests run on a gateway that reads 64 KiB at a
// time (Node's own size), which a client's 64 KiB and more fills at once, so where reads end is
// known; the last ones on the default 256 KiB.
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WsConnection } from '../../src/server/connection.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { buildNative, examplePlugin, nativeSpec } from '../native/helpers.js';
import { endpoint, gatewayConfig, testLog } from './config-fixture.js';
import { clientFrame, hybiRequest, RawClient } from './helpers.js';

/** Bytes of `count` unmasked server frames of `size` bytes each (size < 65,536). */
const echoBytes = (count: number, size: number): number => count * ((size < 126 ? 2 : 4) + size);
/** The server frame of one binary echo of `payload` (shorter than 65,536 bytes). */
const binaryEcho = (payload: Buffer): Buffer =>
  Buffer.concat([payload.length < 126 ? Buffer.from([0x82, payload.length]) : Buffer.from([0x82, 126, payload.length >> 8, payload.length & 0xff]), payload]);

const endpoints = [endpoint('/echo'), endpoint('/c', { handler: nativeSpec(examplePlugin('echo'), 'echo_init') })];
const handlers = [
  ['the JS echo handler', '/echo'],
  ['the C echo plugin', '/c'],
] as const;

/** Opens a raw connection on `path`; resolves with it once the 101 is read (and the C side is open). */
async function open(port: number, path: string): Promise<{ raw: RawClient; bodyStart: number }> {
  const raw = await RawClient.open(port);
  raw.write(hybiRequest(path));
  await raw.head();
  const bodyStart = raw.received.indexOf('\r\n\r\n') + 4;
  // A first round trip: the plugin's connection is open and nothing else is in flight.
  raw.write(clientFrame(0x1, 'warm'));
  await raw.until((b) => b.length >= bodyStart + 6);
  return { raw, bodyStart: bodyStart + 6 };
}

/** Sends `frames` in one TCP write and counts the gateway's socket writes and reads until every echo is back. */
async function writesFor(port: number, path: string, frames: Buffer[], size: number): Promise<{ writes: number; reads: number; body: Buffer }> {
  const { raw, bodyStart } = await open(port, path);
  const clientPort = raw.socket.localPort;
  let writes = 0;
  let reads = 0;
  const count = function (this: Socket): void {
    // The gateway's side of this connection: its peer is our client socket.
    if (this.remotePort === clientPort) writes++;
  };
  const write = Socket.prototype._write;
  const writev = Socket.prototype._writev!;
  const receive = WsConnection.prototype.receive;
  const spyWrite = vi.spyOn(Socket.prototype, '_write').mockImplementation(function (this: Socket, ...args) {
    count.call(this);
    return write.apply(this, args);
  });
  const spyWritev = vi.spyOn(Socket.prototype, '_writev').mockImplementation(function (this: Socket, ...args) {
    count.call(this);
    return writev.apply(this, args);
  });
  const spyReceive = vi.spyOn(WsConnection.prototype, 'receive').mockImplementation(function (this: WsConnection, chunk, into) {
    if (this.remotePort === clientPort) reads++;
    receive.call(this, chunk, into);
  });
  try {
    raw.write(Buffer.concat(frames));
    const all = await raw.until((b) => b.length >= bodyStart + echoBytes(frames.length, size));
    return { writes, reads, body: all.subarray(bodyStart) };
  } finally {
    spyWrite.mockRestore();
    spyWritev.mockRestore();
    spyReceive.mockRestore();
    raw.destroy();
  }
}

describe('write batching, reads of 64 KiB', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    buildNative();
    gw = await startGateway(gatewayConfig(endpoints), { log: testLog, readSize: 64 * 1024 });
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  for (const [name, path] of handlers) {
    it(`${name}: the echoes of four messages that arrive in one read leave in one write, in order`, async () => {
      const texts = ['one', 'two', 'six', 'ten'];
      const { writes, body } = await writesFor(port, path, texts.map((t) => clientFrame(0x1, t)), 3);
      expect(writes).toBe(1);
      expect(body).toEqual(Buffer.concat(texts.map((t) => Buffer.from([0x81, 3, ...Buffer.from(t)]))));
    });

    it(`${name}: 2,000 echoes of one burst (several reads, more than the plugin's slab holds) leave in a few writes, in order`, async () => {
      // Replies handed over after the read that brought their messages (the C plugin's queue, drained
      // in the pump's later slices) are held until the tick's end too: before that, one write each.
      const frames = Array.from({ length: 2000 }, (_, i) => clientFrame(0x2, String(i).padStart(32, '.')));
      const { writes, body } = await writesFor(port, path, frames, 32);
      expect(writes).toBeLessThanOrEqual(40);
      expect(body).toEqual(Buffer.concat(Array.from({ length: 2000 }, (_, i) => Buffer.from([0x82, 32, ...Buffer.from(String(i).padStart(32, '.'))]))));
    });

    it(`${name}: the echoes of four 16 KiB messages leave in one write though they take two reads`, async () => {
      // 65,568 bytes: the first read fills Node's 64 KiB buffer, libuv reads again at once, and the
      // first read's three echoes wait for the fourth (one write each read before).
      const payloads = [1, 2, 3, 4].map((n) => Buffer.alloc(16 * 1024, n));
      const { writes, body } = await writesFor(port, path, payloads.map((p) => clientFrame(0x2, p)), 16 * 1024);
      expect(writes).toBe(1);
      expect(body).toEqual(Buffer.concat(payloads.map((p) => Buffer.concat([Buffer.from([0x82, 126, 0x40, 0x00]), p]))));
    });

    it(`${name}: a read of exactly 64 KiB with nothing after it still has its echoes written, in one write`, async () => {
      // 4 × (8 header bytes + 16,376): the read is full, but no second read comes to release its echoes.
      const payloads = [5, 6, 7, 8].map((n) => Buffer.alloc(16376, n));
      const { writes, body } = await writesFor(port, path, payloads.map((p) => clientFrame(0x2, p)), 16376);
      expect(writes).toBe(1);
      expect(body).toEqual(Buffer.concat(payloads.map((p) => Buffer.concat([Buffer.from([0x82, 126, 0x3f, 0xf8]), p]))));
    });

    it(`${name}: a lone message's echo is written at once, alone`, async () => {
      const { writes, body } = await writesFor(port, path, [clientFrame(0x2, 'abcd')], 4);
      expect(writes).toBe(1);
      expect(body).toEqual(Buffer.from([0x82, 4, ...Buffer.from('abcd')]));
    });
  }
});

describe('write batching, reads of the default 256 KiB', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    buildNative();
    gw = await startGateway(gatewayConfig(endpoints), { log: testLog });
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  for (const [name, path] of handlers) {
    it(`${name}: sixteen 16 KiB messages are echoed in order, each read's echoes in at most one write`, async () => {
      // 262,272 bytes: as many reads as the kernel hands them over in (one, if all had come).
      const payloads = Array.from({ length: 16 }, (_, n) => Buffer.alloc(16 * 1024, n + 1));
      const { writes, reads, body } = await writesFor(port, path, payloads.map((p) => clientFrame(0x2, p)), 16 * 1024);
      expect(reads).toBeGreaterThan(0);
      expect(writes).toBeLessThanOrEqual(reads);
      // Buffer.equals: toEqual compares 262,208 bytes one by one, for a second.
      expect(body.equals(Buffer.concat(payloads.map(binaryEcho)))).toBe(true);
    });
  }
});

describe('reading shares the event loop', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    // Reads of 16 KiB: a 2 MiB burst comes back in many full reads, four of which are a turn's share.
    gw = await startGateway(gatewayConfig([endpoint('/echo')]), { log: testLog, readSize: 16 * 1024 });
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  it('a connection whose reads keep coming back full stops after four in a turn and reads on in the next: its echoes all arrive, in order', async () => {
    const { raw, bodyStart } = await open(port, '/echo');
    const clientPort = raw.socket.localPort;
    let yields = 0;
    const turnEnded = WsConnection.prototype.turnEnded;
    const spy = vi.spyOn(WsConnection.prototype, 'turnEnded').mockImplementation(function (this: WsConnection) {
      if (this.remotePort === clientPort) yields++;
      turnEnded.call(this);
    });
    try {
      const payloads = Array.from({ length: 128 }, (_, n) => Buffer.alloc(16 * 1024 - 100, n));
      raw.write(Buffer.concat(payloads.map((p) => clientFrame(0x2, p))));
      const all = await raw.until((b) => b.length >= bodyStart + echoBytes(payloads.length, payloads[0]!.length));
      expect(all.subarray(bodyStart).equals(Buffer.concat(payloads.map(binaryEcho)))).toBe(true);
      expect(yields).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
      raw.destroy();
    }
  });
});
