// Autobahn section 3: any RSV bit set without a negotiated extension fails the connection with 1002,
// also after a valid message (which must still be echoed) and before a ping (which must not be answered).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { buildFrame, closePayload, OP, type FrameSpec } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import type { RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

/** A valid message, the bad frame, then a ping that must go unanswered. */
function sandwich(bad: FrameSpec): FrameSpec[] {
  return [{ opcode: OP.text, payload: 'Hello, world!' }, bad, { opcode: OP.ping, payload: 'must not be answered' }];
}

async function expectEchoThenFail(client: RawClient): Promise<void> {
  await expectFailure(client, 1002);
  await expectMessages(client, [text('Hello, world!')]);
  await expectPongs(client, []);
}

describe('3 reserved bits', () => {
  it('3.1 text with RSV1 → 1002', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'Hello, world!', rsv: 4 });
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));

  it('3.2 echo, then text with RSV2, then ping (one write) → echo, 1002, no pong', () =>
    open(async (client) => {
      client.sendFrames(sandwich({ opcode: OP.text, payload: 'Hello, world!', rsv: 2 }));
      await expectEchoThenFail(client);
    }));

  it('3.3 echo, then text with RSV1+RSV2, then ping, frame by frame', () =>
    open(async (client) => {
      await client.sendFramewise(sandwich({ opcode: OP.text, payload: 'Hello, world!', rsv: 6 }));
      await expectEchoThenFail(client);
    }));

  it('3.4 echo, then text with RSV3, then ping, octet by octet', () =>
    open(async (client) => {
      const bytes = Buffer.concat(sandwich({ opcode: OP.text, payload: 'Hello, world!', rsv: 1 }).map(buildFrame));
      await client.sendChunked(bytes, 1);
      await expectEchoThenFail(client);
    }));

  it('3.5 binary with RSV1+RSV3 → 1002', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.binary, payload: Buffer.from([0, 1, 2, 0xff]), rsv: 5 });
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));

  it('3.6 ping with RSV2+RSV3 → 1002, no pong', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.ping, payload: 'Hello, world!', rsv: 3 });
      await expectFailure(client, 1002);
      await expectPongs(client, []);
    }));

  it('3.7 close with all RSV bits → 1002', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.close, payload: closePayload(1000), rsv: 7 });
      await expectFailure(client, 1002);
    }));

  it('3.x continuation frame with RSV1 inside a fragmented message → 1002, no echo', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: 'frag1', fin: false },
        { opcode: OP.continuation, payload: 'frag2', rsv: 4 },
      ]);
      await expectFailure(client, 1002);
      await expectMessages(client, []);
    }));
});
