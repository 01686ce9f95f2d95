// The same conformance ground, condensed, against the C echo plugin (handlers/c/echo.c through the
// koffi adapter): the framing and UTF-8 verdicts must not depend on which kind of handler answers.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildFrame, fragment, OP, pieces } from './frame-builder.js';
import { buildNativeEcho, startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { binary, expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import { UTF8_CASES } from './utf8-cases.js';
import type { RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  buildNativeEcho();
  gateway = await startConformanceGateway({}, { nativeEcho: true });
}, 90_000);
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port, path: '/native-echo' }, body);

describe('C echo plugin: framing', () => {
  for (const length of [0, 1, 125, 126, 65535, 65536, 1024 * 1024]) {
    it(`text and binary of ${length} bytes are echoed with their type`, () =>
      open(async (client) => {
        const data = randomBytes(length);
        const ascii = Buffer.from(data.map((b) => 0x21 + (b % 90)));
        client.sendFrames([
          { opcode: OP.binary, payload: data },
          { opcode: OP.text, payload: ascii },
        ]);
        await expectMessages(client, [binary(data), text(ascii)], 10_000);
        await expectCleanClose(client);
      }));
  }

  it('a text message in 1-byte fragments with a ping inside, sent octet by octet', () =>
    open(async (client) => {
      const payload = Buffer.from('Hello-µ@ßöäüàá-UTF-8!!');
      const frames = fragment(OP.text, payload, pieces(payload.length, 1));
      frames.splice(5, 0, { opcode: OP.ping, payload: 'inside' });
      await client.sendChunked(Buffer.concat(frames.map(buildFrame)), 1);
      await expectPongs(client, [Buffer.from('inside')]);
      await expectMessages(client, [text(payload)]);
      await expectCleanClose(client);
    }));

  it('200 messages in one write are echoed in order', () =>
    open(async (client) => {
      const messages = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? text(`message ${i}`) : binary(randomBytes(i))));
      client.sendFrames(messages.map((m) => ({ opcode: m.opcode, payload: m.data })));
      await expectMessages(client, messages);
      await expectCleanClose(client);
    }));

  it('RSV1 → 1002 after an echo; invalid close code → 1002', async () => {
    await open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: 'first' },
        { opcode: OP.text, payload: 'x', rsv: 4 },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, [text('first')]);
    });
    await open(async (client) => {
      client.sendClose(1005);
      await expectFailure(client, 1002);
    });
  });
});

describe('C echo plugin: UTF-8 (6.5–6.23, one frame each)', () => {
  for (const { id, hex, valid } of UTF8_CASES) {
    it(`${id} ${valid ? 'valid → echo' : 'invalid → 1007'}`, () =>
      open(async (client) => {
        const payload = Buffer.from(hex, 'hex');
        client.sendFrame({ opcode: OP.text, payload });
        if (valid) {
          await expectMessages(client, [text(payload)]);
          await expectCleanClose(client);
        } else {
          await expectFailure(client, 1007);
          await expectMessages(client, []);
        }
      }));
  }
});
