// The replies made while one socket read is handled leave in one write (issue 16): a JS handler's
// sends and a C plugin's batch alike. Counted at the server socket's stream layer (_write/_writev
// calls: each is one write or writev system call), on the gateway's side of the connection only.
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { buildNative, examplePlugin, nativeSpec } from '../native/helpers.js';
import { endpoint, gatewayConfig, testLog } from './config-fixture.js';
import { clientFrame, hybiRequest, RawClient } from './helpers.js';

/** Bytes of `count` unmasked server frames of `size` bytes each (size < 126). */
const echoBytes = (count: number, size: number): number => count * (2 + size);

describe('write batching', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    buildNative();
    gw = await startGateway(gatewayConfig([endpoint('/echo'), endpoint('/c', { handler: nativeSpec(examplePlugin('echo'), 'echo_init') })]), { log: testLog });
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  /** Opens a raw connection on `path`; resolves with it once the 101 is read (and the C side is open). */
  async function open(path: string): Promise<{ raw: RawClient; bodyStart: number }> {
    const raw = await RawClient.open(port);
    raw.write(hybiRequest(path));
    await raw.head();
    const bodyStart = raw.received.indexOf('\r\n\r\n') + 4;
    // A first round trip: the plugin's connection is open and nothing else is in flight.
    raw.write(clientFrame(0x1, 'warm'));
    await raw.until((b) => b.length >= bodyStart + 6);
    return { raw, bodyStart: bodyStart + 6 };
  }

  /** Sends `frames` in one TCP write and counts the gateway's socket writes until every echo is back. */
  async function writesFor(path: string, frames: Buffer[], size: number): Promise<{ writes: number; body: Buffer }> {
    const { raw, bodyStart } = await open(path);
    const serverPort = raw.socket.localPort;
    let writes = 0;
    const count = function (this: Socket): void {
      // The gateway's side of this connection: its peer is our client socket.
      if (this.remotePort === serverPort) writes++;
    };
    const write = Socket.prototype._write;
    const writev = Socket.prototype._writev!;
    const spyWrite = vi.spyOn(Socket.prototype, '_write').mockImplementation(function (this: Socket, ...args) {
      count.call(this);
      return write.apply(this, args);
    });
    const spyWritev = vi.spyOn(Socket.prototype, '_writev').mockImplementation(function (this: Socket, ...args) {
      count.call(this);
      return writev.apply(this, args);
    });
    try {
      raw.write(Buffer.concat(frames));
      const all = await raw.until((b) => b.length >= bodyStart + echoBytes(frames.length, size));
      return { writes, body: all.subarray(bodyStart) };
    } finally {
      spyWrite.mockRestore();
      spyWritev.mockRestore();
      raw.destroy();
    }
  }

  for (const [name, path] of [
    ['the JS echo handler', '/echo'],
    ['the C echo plugin', '/c'],
  ] as const) {
    it(`${name}: the echoes of four messages that arrive in one read leave in one write, in order`, async () => {
      const texts = ['one', 'two', 'six', 'ten'];
      const { writes, body } = await writesFor(path, texts.map((t) => clientFrame(0x1, t)), 3);
      expect(writes).toBe(1);
      expect(body).toEqual(Buffer.concat(texts.map((t) => Buffer.from([0x81, 3, ...Buffer.from(t)]))));
    });

    it(`${name}: 2,000 echoes of one burst (several reads, more than the plugin's slab holds) leave in a few writes, in order`, async () => {
      // Replies handed over after the read that brought their messages (the C plugin's queue, drained
      // in the pump's later slices) are held until the tick's end too: before that, one write each.
      const frames = Array.from({ length: 2000 }, (_, i) => clientFrame(0x2, String(i).padStart(32, '.')));
      const { writes, body } = await writesFor(path, frames, 32);
      expect(writes).toBeLessThanOrEqual(40);
      expect(body).toEqual(Buffer.concat(Array.from({ length: 2000 }, (_, i) => Buffer.from([0x82, 32, ...Buffer.from(String(i).padStart(32, '.'))]))));
    });

    it(`${name}: a lone message's echo is written at once, alone`, async () => {
      const { writes, body } = await writesFor(path, [clientFrame(0x2, 'abcd')], 4);
      expect(writes).toBe(1);
      expect(body).toEqual(Buffer.from([0x82, 4, ...Buffer.from('abcd')]));
    });
  }
});
