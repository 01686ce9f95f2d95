// Autobahn section 2: pings are answered with pongs carrying the same payload, control frames over
// 125 bytes fail the connection, unsolicited pongs are ignored.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildFrame, OP } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { binary, expectCleanClose, expectFailure, expectMessages, expectPongs, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

describe('2 pings and pongs', () => {
  it('2.1 ping without payload → empty pong', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.ping });
      await expectPongs(client, [Buffer.alloc(0)]);
      await expectCleanClose(client);
    }));

  it('2.2 ping with a small text payload → same payload', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.ping, payload: 'Hello, world!' });
      await expectPongs(client, [Buffer.from('Hello, world!')]);
      await expectCleanClose(client);
    }));

  it('2.3 ping with a small binary payload → same payload', () =>
    open(async (client) => {
      const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
      client.sendFrame({ opcode: OP.ping, payload });
      await expectPongs(client, [payload]);
      await expectCleanClose(client);
    }));

  it('2.4 ping with a 125-byte payload → same payload', () =>
    open(async (client) => {
      const payload = Buffer.alloc(125, 0xfe);
      client.sendFrame({ opcode: OP.ping, payload });
      await expectPongs(client, [payload]);
      await expectCleanClose(client);
    }));

  it('2.5 ping with a 126-byte payload → 1002, no pong', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.ping, payload: Buffer.alloc(126, 0xfe) });
      await expectFailure(client, 1002);
      await expectPongs(client, []);
    }));

  it('2.6 125-byte ping sent octet by octet → same payload', () =>
    open(async (client) => {
      const payload = Buffer.from(Array.from({ length: 125 }, (_, i) => i));
      await client.sendChunked(buildFrame({ opcode: OP.ping, payload }), 1);
      await expectPongs(client, [payload]);
      await expectCleanClose(client);
    }));

  it('2.7 unsolicited pong without payload is ignored', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.pong });
      await expectCleanClose(client);
      await expectPongs(client, []);
      await expectMessages(client, []);
    }));

  it('2.8 unsolicited pong with payload is ignored', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.pong, payload: 'unsolicited pong payload' });
      await expectCleanClose(client);
      await expectPongs(client, []);
      await expectMessages(client, []);
    }));

  it('2.9 unsolicited pong, then ping → exactly one pong with the ping payload', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.pong, payload: 'unsolicited pong payload' },
        { opcode: OP.ping, payload: 'ping payload' },
      ]);
      await expectPongs(client, [Buffer.from('ping payload')]);
      await expectCleanClose(client);
      await expectPongs(client, [Buffer.from('ping payload')]);
    }));

  it('2.10 ten pings in one write → ten pongs in order', () =>
    open(async (client) => {
      const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`payload-${i}`));
      client.sendFrames(payloads.map((payload) => ({ opcode: OP.ping, payload })));
      await expectPongs(client, payloads);
      await expectCleanClose(client);
    }));

  it('2.11 ten pings sent frame by frame → ten pongs in order', () =>
    open(async (client) => {
      const payloads = Array.from({ length: 10 }, (_, i) => Buffer.from(`payload-${i}`));
      await client.sendFramewise(payloads.map((payload) => ({ opcode: OP.ping, payload })), 10);
      await expectPongs(client, payloads);
      await expectCleanClose(client);
    }));

  it('2.x 1000 pings with distinct payloads → 1000 matching pongs', () =>
    open(async (client) => {
      const payloads = Array.from({ length: 1000 }, (_, i) => Buffer.from(`ping ${i}`));
      client.sendFrames(payloads.map((payload) => ({ opcode: OP.ping, payload })));
      await expectPongs(client, payloads);
      await expectCleanClose(client);
    }));

  it('2.x a ping right behind a 4 MiB message: the pong never lands inside the echo frame', () =>
    open(async (client) => {
      const payload = randomBytes(4 * 1024 * 1024);
      client.sendFrames([
        { opcode: OP.binary, payload },
        { opcode: OP.ping, payload: 'behind' },
      ]);
      await expectPongs(client, [Buffer.from('behind')], 10_000);
      await expectMessages(client, [binary(payload)], 10_000);
      await expectCleanClose(client);
    }));
});
