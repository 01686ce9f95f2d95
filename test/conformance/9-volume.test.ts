// A trimmed Autobahn section 9, graded on correctness only (speed belongs to bench/): big messages,
// big messages in many small fragments, and many small reads. Reassembly or validation that copies
// the whole message per fragment turns these into time-outs.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { buildFrame, fragment, OP, pieces } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectCleanClose, expectMessages, type Message, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

const MiB = 1024 * 1024;
/** Generous for a loaded 2-core machine; a quadratic server needs minutes. */
const VOLUME_WAIT_MS = 15_000;

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

/** UTF-8 text with 1- to 4-byte characters, exactly `length` bytes. */
function utf8Text(length: number): Buffer {
  const unit = Buffer.from('aµ€𝄞', 'utf8'); // 10 bytes
  const out = Buffer.alloc(length, 'x');
  for (let at = 0; at + unit.length <= length; at += unit.length) unit.copy(out, at);
  return out;
}

const KINDS: { name: string; make: (n: number) => Message }[] = [
  { name: 'text', make: (n) => ({ opcode: OP.text, data: utf8Text(n) }) },
  { name: 'binary', make: (n) => ({ opcode: OP.binary, data: randomBytes(n) }) },
];

describe('9 volume', () => {
  for (const kind of KINDS) {
    it(`9.1/9.2 ${kind.name}, 16 MiB in one frame`, () =>
      open(async (client) => {
        const message = kind.make(16 * MiB);
        client.sendFrame({ opcode: message.opcode, payload: message.data });
        await expectMessages(client, [message], VOLUME_WAIT_MS);
        await expectCleanClose(client);
      }));

    for (const size of [64, 4096]) {
      it(`9.3/9.4 ${kind.name}, 4 MiB in ${size}-byte fragments`, () =>
        open(async (client) => {
          const message = kind.make(4 * MiB);
          client.sendFrames(fragment(message.opcode, message.data, pieces(message.data.length, size)));
          await expectMessages(client, [message], VOLUME_WAIT_MS);
          await expectCleanClose(client);
        }));
    }

    it(`9.5/9.6 ${kind.name}, 256 KiB frame written in 64-byte chunks, one per turn of the event loop`, () =>
      open(async (client) => {
        const message = kind.make(256 * 1024);
        const bytes = buildFrame({ opcode: message.opcode, payload: message.data });
        for (let at = 0; at < bytes.length; at += 64) {
          client.send(bytes.subarray(at, at + 64));
          await nextTurn();
        }
        await expectMessages(client, [message], VOLUME_WAIT_MS);
        await expectCleanClose(client);
      }));
  }

  it('9.7/9.8 5000 small messages, text and binary, pipelined', () =>
    open(async (client) => {
      const messages = Array.from({ length: 5000 }, (_, i) => KINDS[i % 2]!.make(i % 200));
      client.send(Buffer.concat(messages.map((m) => buildFrame({ opcode: m.opcode, payload: m.data }))));
      await expectMessages(client, messages, VOLUME_WAIT_MS);
      await expectCleanClose(client);
    }));
});
