// Autobahn section 1: text and binary messages of the length-encoding boundaries, sent whole and in
// chunks; plus RFC 6455 §5.1 (unmasked client frames) and pipelining.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildFrame, OP } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { binary, expectCleanClose, expectFailure, expectMessages, text, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536];

/** Printable ASCII with a varying pattern, so a masking bug cannot hide behind repeated bytes. */
function asciiPayload(length: number): Buffer {
  const bytes = randomBytes(length);
  for (let i = 0; i < length; i++) bytes[i] = 0x20 + (bytes[i]! % 0x5f);
  return bytes;
}

const KINDS = [
  { section: '1.1', name: 'text', opcode: OP.text, payload: asciiPayload },
  { section: '1.2', name: 'binary', opcode: OP.binary, payload: (length: number) => randomBytes(length) },
];

for (const kind of KINDS) {
  describe(`${kind.section} ${kind.name} messages`, () => {
    LENGTHS.forEach((length, i) => {
      it(`${kind.section}.${i + 1} ${kind.name}, ${length} bytes`, () =>
        open(async (client) => {
          const payload = kind.payload(length);
          client.sendFrame({ opcode: kind.opcode, payload });
          await expectMessages(client, [{ opcode: kind.opcode, data: payload }]);
          await expectCleanClose(client);
        }));
    });

    it(`${kind.section}.8 ${kind.name}, 65536 bytes sent in 997-byte chunks`, () =>
      open(async (client) => {
        const payload = kind.payload(65536);
        await client.sendChunked(buildFrame({ opcode: kind.opcode, payload }), 997);
        await expectMessages(client, [{ opcode: kind.opcode, data: payload }]);
        await expectCleanClose(client);
      }));
  });
}

describe('1.x large and pipelined messages', () => {
  it('binary, 4 MiB in one frame (64-bit length)', () =>
    open(async (client) => {
      const payload = randomBytes(4 * 1024 * 1024);
      client.sendFrame({ opcode: OP.binary, payload });
      await expectMessages(client, [binary(payload)], 10_000);
      await expectCleanClose(client);
    }));

  it('text, 1 MiB sent in 65536-byte chunks', () =>
    open(async (client) => {
      const payload = asciiPayload(1024 * 1024);
      await client.sendChunked(buildFrame({ opcode: OP.text, payload }), 65536);
      await expectMessages(client, [text(payload)], 10_000);
      await expectCleanClose(client);
    }));

  it('header split at every byte: 126- and 127-length forms sent octet by octet', () =>
    open(async (client) => {
      const small = asciiPayload(200);
      const big = randomBytes(70_000);
      const frames = Buffer.concat([buildFrame({ opcode: OP.text, payload: small }), buildFrame({ opcode: OP.binary, payload: big })]);
      // Frame one is 8 + 200 bytes, frame two's header 14 more: both headers arrive octet by octet.
      await client.sendChunked(frames.subarray(0, 230), 1);
      client.send(frames.subarray(230));
      await expectMessages(client, [text(small), binary(big)]);
      await expectCleanClose(client);
    }));

  it('100 messages of mixed types in one write are echoed in order', () =>
    open(async (client) => {
      const messages = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? text(asciiPayload(i * 7)) : binary(randomBytes(i * 13))));
      client.send(Buffer.concat(messages.map((m) => buildFrame({ opcode: m.opcode, payload: m.data }))));
      await expectMessages(client, messages);
      await expectCleanClose(client);
    }));

  it('an all-zero masking key is still a masked frame', () =>
    open(async (client) => {
      const payload = asciiPayload(300);
      client.sendFrame({ opcode: OP.text, payload, maskKey: Buffer.alloc(4) });
      await expectMessages(client, [text(payload)]);
      await expectCleanClose(client);
    }));
});

describe('RFC 6455 §5.1: client frames must be masked', () => {
  it('an unmasked text frame fails the connection with 1002', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'not masked', masked: false });
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));

  it('an unmasked frame after a valid message: echo, then 1002', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: 'masked' },
        { opcode: OP.binary, payload: Buffer.from([1, 2, 3]), masked: false },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, [text('masked')]);
    }));
});

describe('RFC 6455 §5.2: payload length field', () => {
  /** A masked binary frame header claiming `length` bytes (64-bit form), without the payload. */
  function header64(high: number, low: number): Buffer {
    const b = Buffer.alloc(14);
    b[0] = 0x82;
    b[1] = 0x80 | 127;
    b.writeUInt32BE(high, 2);
    b.writeUInt32BE(low, 6);
    return b; // 4 zero bytes of masking key follow the length
  }

  it('64-bit length with the most significant bit set → fails (1002, or 1009 as over MaxMessageSize)', () =>
    open(async (client) => {
      client.send(header64(0x80000000, 0));
      await expectFailure(client, [1002, 1009]);
    }));

  it('a declared length over MaxMessageSize (1 TiB) fails with 1009 at the header, before any payload', () =>
    open(async (client) => {
      client.send(header64(0x100, 0));
      await expectFailure(client, 1009);
    }));
});

