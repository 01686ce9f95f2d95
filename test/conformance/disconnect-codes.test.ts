// What the handler is told when a connection ends: onDisconnect exactly once, with the close code
// and reason the peer sent, 1005 for an empty close, 1006 without a close frame, or the code the
// gateway failed the connection with. Connections are told apart by the `id` query parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { OP, type FrameSpec } from './frame-builder.js';
import { disconnectsOf, SMALL_LIMIT, startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { openWebSocket, type RawClient } from './raw-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway({}, { recorder: true });
});
afterAll(() => gateway?.close());

let serial = 0;

/** Opens /record?id=…, lets `act` end the connection, returns what onDisconnect was given. */
async function disconnectAfter(act: (client: RawClient) => void): Promise<{ code: number; reason: string }[]> {
  const id = `conf-${process.pid}-${++serial}`;
  const client = await openWebSocket({ port: gateway.port, path: `/record?id=${id}` });
  try {
    act(client);
    await client.waitForTcpClose(3000);
    // onDisconnect runs once the server has seen the socket close; bounded wait for it.
    for (let i = 0; i < 100 && disconnectsOf(id).length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 50)); // a second, wrong call would land here
    return disconnectsOf(id).map(({ code, reason }) => ({ code, reason }));
  } finally {
    client.destroy();
  }
}

const frame = (spec: FrameSpec) => (client: RawClient) => client.sendFrame(spec);

describe('onDisconnect(conn, code, reason)', () => {
  it('peer closes 1000 with a reason → 1000 and that reason', async () => {
    expect(await disconnectAfter((c) => c.sendClose(1000, 'bye now'))).toEqual([{ code: 1000, reason: 'bye now' }]);
  });

  it('peer closes 4321 → 4321', async () => {
    expect(await disconnectAfter((c) => c.sendClose(4321, ''))).toEqual([{ code: 4321, reason: '' }]);
  });

  it('peer sends an empty close frame → 1005', async () => {
    expect((await disconnectAfter((c) => c.sendClose())).map((d) => d.code)).toEqual([1005]);
  });

  it('TCP reset without a close frame → 1006', async () => {
    expect((await disconnectAfter((c) => c.socket.resetAndDestroy())).map((d) => d.code)).toEqual([1006]);
  });

  it('TCP half-close without a close frame → 1006', async () => {
    expect((await disconnectAfter((c) => c.socket.end())).map((d) => d.code)).toEqual([1006]);
  });

  const FAILURES: [string, (client: RawClient) => void, number][] = [
    ['RSV1 set', frame({ opcode: OP.text, payload: 'x', rsv: 4 }), 1002],
    ['invalid UTF-8', frame({ opcode: OP.text, payload: Buffer.from('c0af', 'hex') }), 1007],
    ['a message over MaxMessageSize', frame({ opcode: OP.binary, payload: randomBytes(SMALL_LIMIT + 1) }), 1009],
    ['close code 1005 on the wire', (c) => c.sendClose(1005), 1002],
  ];
  for (const [what, act, code] of FAILURES) {
    it(`the gateway fails the connection for ${what} → ${code}, once`, async () => {
      expect((await disconnectAfter(act)).map((d) => d.code)).toEqual([code]);
    });
  }
});
