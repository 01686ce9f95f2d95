// Autobahn section 4: reserved opcodes (non-control 3–7, control 11–15) fail the connection with
// 1002, also after a valid message (still echoed) and before a ping (not answered).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { OP } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

/** Per Autobahn: 1st case alone and empty, 2nd alone with payload, 3rd–5th after a valid message. */
function opcodeCases(section: string, opcodes: number[]): void {
  opcodes.forEach((opcode, i) => {
    const afterEcho = i >= 2;
    const payload = i === 0 || i === 2 ? undefined : 'reserved opcode payload';
    it(`${section}.${i + 1} opcode ${opcode}${payload ? ' with payload' : ''}${afterEcho ? ' after a valid message, then ping' : ''} → 1002`, () =>
      open(async (client) => {
        if (afterEcho) {
          await client.sendFramewise([
            { opcode: OP.text, payload: 'Hello, world!' },
            { opcode, payload },
            { opcode: OP.ping, payload: 'must not be answered' },
          ]);
        } else {
          client.sendFrame({ opcode, payload });
        }
        await expectFailure(client, 1002);
        await expectMessages(client, afterEcho ? [text('Hello, world!')] : []);
        await expectPongs(client, []);
      }));
  });
}

describe('4.1 reserved non-control opcodes', () => opcodeCases('4.1', [3, 4, 5, 6, 7]));
describe('4.2 reserved control opcodes', () => opcodeCases('4.2', [11, 12, 13, 14, 15]));
