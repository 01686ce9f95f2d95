// The harness checked against a reference: our raw client and frame builder talk to a `ws`
// WebSocketServer echo. If these fail, the conformance verdicts against wsgate mean nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { buildFrame, fragment, OP, pieces } from './frame-builder.js';
import { binary, expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

let server: WebSocketServer;
let port: number;
beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket) => {
    socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary }));
    socket.on('error', () => undefined); // ws reports the protocol errors we provoke here
  });
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port, path: '/' }, body);

describe('harness against the ws reference server', () => {
  for (const length of [0, 125, 126, 65535, 65536]) {
    it(`binary ${length} bytes, and text of the same length sent octet-chunked`, () =>
      open(async (client) => {
        const payload = randomBytes(length);
        const ascii = Buffer.from(payload.map((b) => 0x41 + (b % 26)));
        client.sendFrame({ opcode: OP.binary, payload });
        await client.sendChunked(buildFrame({ opcode: OP.text, payload: ascii }), 4096);
        await expectMessages(client, [binary(payload), text(ascii)]);
        await expectCleanClose(client);
      }));
  }

  it('1-byte fragments with a ping inside; pong and echo', () =>
    open(async (client) => {
      const kosme = Buffer.from('κόσμε');
      const frames = fragment(OP.text, kosme, pieces(kosme.length, 1));
      frames.splice(3, 0, { opcode: OP.ping, payload: 'inside' });
      client.sendFrames(frames);
      await expectPongs(client, [Buffer.from('inside')]);
      await expectMessages(client, [text('κόσμε')]);
      await expectCleanClose(client, 4000);
    }));

  it('RSV1 → 1002, invalid UTF-8 → 1007, close code 1005 → 1002', async () => {
    await open(async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'x', rsv: 4 });
      await expectFailure(client, 1002);
    });
    await open(async (client) => {
      client.sendFrame({ opcode: OP.text, payload: Buffer.from('eda080', 'hex') });
      await expectFailure(client, 1007);
    });
    await open(async (client) => {
      client.sendClose(1005);
      await expectFailure(client, 1002);
    });
  });

  it('the verdict helpers do fail on a wrong expectation', async () => {
    await open(async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'abc' });
      await expect(expectMessages(client, [text('abd')], 500)).rejects.toThrow();
      await expect(expectFailure(client, 1002, { timeoutMs: 300 })).rejects.toThrow();
    });
  });

  it('a server that skips UTF-8 validation is caught: no 1007, and its echo flagged as a violation', async () => {
    const lax = new WebSocketServer({ host: '127.0.0.1', port: 0, skipUTF8Validation: true });
    lax.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data as Buffer, { binary: isBinary })));
    await new Promise((resolve) => lax.once('listening', resolve));
    try {
      await withClient({ port: (lax.address() as AddressInfo).port, path: '/' }, async (client) => {
        client.sendFrame({ opcode: OP.text, payload: Buffer.from('eda080', 'hex') });
        await expect(expectFailure(client, 1007, { timeoutMs: 300 })).rejects.toThrow();
        expect(client.violations()).toContain('server text message is not UTF-8');
      });
    } finally {
      await new Promise<void>((resolve) => lax.close(() => resolve()));
    }
  });
});
