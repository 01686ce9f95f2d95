// Autobahn section 7: the closing handshake. Valid codes are echoed, invalid codes and malformed
// close payloads fail with 1002 (1007 for a non-UTF-8 reason), nothing after a close is processed,
// and the server closes TCP once the handshake is done.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { buildFrame, closePayload, OP } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient, WAIT_MS } from './outcome.js';
import { KOSME_HEX } from './utf8-cases.js';
import { openWebSocket, type RawClient } from './raw-client.js';

const CLOSE_TIMEOUT_S = 1;

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway({ closeTimeout: CLOSE_TIMEOUT_S });
});
afterAll(() => gateway?.close());

const open = (body: (client: RawClient) => Promise<void>): Promise<void> => withClient({ port: gateway.port }, body);

async function expectOneClose(client: RawClient, code: number): Promise<void> {
  const closed = await client.waitForTcpClose(WAIT_MS);
  expect(closed, client.describe()).toBe(true);
  const closes = client.events.filter((e) => e.kind === 'close');
  expect(closes.map((e) => (e.kind === 'close' ? e.code : -1)), client.describe()).toEqual([code]);
  expect(client.violations()).toEqual([]);
}

describe('7.1 basic close behaviour', () => {
  it('7.1.1 echo, then clean close', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.text, payload: 'Hello World!' });
      await expectMessages(client, [text('Hello World!')]);
      await expectCleanClose(client);
    }));

  it('7.1.2 two close frames → one close answered, the second ignored', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.close, payload: closePayload(1000) },
        { opcode: OP.close, payload: closePayload(1000) },
      ]);
      await expectOneClose(client, 1000);
    }));

  it('7.1.3 close, then ping → no pong', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.close, payload: closePayload(1000) },
        { opcode: OP.ping, payload: 'Hello World!' },
      ]);
      await expectOneClose(client, 1000);
      await expectPongs(client, []);
    }));

  it('7.1.4 close, then text → not echoed', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.close, payload: closePayload(1000) },
        { opcode: OP.text, payload: 'Hello World!' },
      ]);
      await expectOneClose(client, 1000);
      await expectMessages(client, []);
    }));

  it('7.1.5 first fragment, close, last fragment → no echo', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: 'fragment1', fin: false },
        { opcode: OP.close, payload: closePayload(1000) },
        { opcode: OP.continuation, payload: 'fragment2' },
      ]);
      await expectOneClose(client, 1000);
      await expectMessages(client, []);
    }));

  it('7.1.6 256 KiB message, close, ping → clean close 1000, no pong (echo optional: informational)', () =>
    open(async (client) => {
      client.sendFrames([
        { opcode: OP.text, payload: Buffer.alloc(256 * 1024, 'BAsd7&jh23') },
        { opcode: OP.close, payload: closePayload(1000) },
        { opcode: OP.ping, payload: 'Hello World!' },
      ]);
      await expectOneClose(client, 1000);
      await expectPongs(client, []);
      expect(client.messages().length).toBeLessThanOrEqual(1);
    }));

  it('7.x close, then TCP half-close from the client → close 1000 still answered, TCP closed', () =>
    open(async (client) => {
      client.sendClose(1000);
      client.socket.end();
      await expectOneClose(client, 1000);
    }));

  it('7.x TCP half-close without a close frame → the server closes TCP', () =>
    open(async (client) => {
      client.socket.end();
      expect(await client.waitForTcpClose(WAIT_MS), client.describe()).toBe(true);
    }));

  it(`7.x a client that never answers the server's close is dropped after WebSocketCloseTimeout (${CLOSE_TIMEOUT_S} s)`, () =>
    open(async (client) => {
      client.replyToClose = false;
      const started = Date.now();
      client.sendFrame({ opcode: OP.text, payload: 'x', rsv: 4 });
      const closed = await client.waitForTcpClose(CLOSE_TIMEOUT_S * 1000 + 2000);
      expect(closed, client.describe()).toBe(true);
      expect(client.closeFrame()?.code, client.describe()).toBe(1002);
      expect(Date.now() - started).toBeLessThan(CLOSE_TIMEOUT_S * 1000 + 2000);
    }));
});

describe('7.x the server closes', () => {
  it('shutting the gateway down sends 1001 to open connections and closes TCP', async () => {
    const own = await startConformanceGateway();
    const client = await openWebSocket({ port: own.port });
    try {
      client.sendFrame({ opcode: OP.text, payload: 'before shutdown' });
      await expectMessages(client, [text('before shutdown')]);
      const closing = own.close();
      await expectOneClose(client, 1001);
      await closing;
    } finally {
      client.destroy();
    }
  });

  it(`shutdown finishes within WebSocketCloseTimeout (${CLOSE_TIMEOUT_S} s) when a client never answers the 1001`, async () => {
    const own = await startConformanceGateway({ closeTimeout: CLOSE_TIMEOUT_S });
    const client = await openWebSocket({ port: own.port });
    client.replyToClose = false;
    try {
      const started = Date.now();
      await own.close();
      expect(Date.now() - started).toBeLessThan(CLOSE_TIMEOUT_S * 1000 + 2000);
      expect(await client.waitForTcpClose(1000), client.describe()).toBe(true);
      expect(client.closeFrame()?.code, client.describe()).toBe(1001);
    } finally {
      client.destroy();
    }
  });
});

describe('7.x abrupt TCP loss (no close handshake) never disturbs the gateway', () => {
  const DROPS: [string, (client: RawClient) => void][] = [
    ['half a frame header', (c) => c.send(buildFrame({ opcode: OP.binary, payload: Buffer.alloc(300) }).subarray(0, 3))],
    ['half a fragmented message', (c) => c.sendFrame({ opcode: OP.text, payload: 'frag', fin: false })],
    ['a 4 MiB message whose echo is never read', (c) => c.sendFrame({ opcode: OP.binary, payload: randomBytes(4 * 1024 * 1024) })],
    ['a close frame', (c) => c.sendClose(1000)],
  ];
  for (const [what, send] of DROPS) {
    it(`reset right after ${what}; the next connection is served`, async () => {
      const client = await openWebSocket({ port: gateway.port });
      send(client);
      client.socket.resetAndDestroy();
      await open(async (next) => {
        next.sendFrame({ opcode: OP.text, payload: 'still here' });
        await expectMessages(next, [text('still here')]);
        await expectCleanClose(next);
      });
    });
  }
});

describe('7.3 close frame payloads', () => {
  it('7.3.1 empty close → empty close or 1000', () => open((c) => expectCleanClose(c, undefined, [undefined, 1000])));

  it('7.3.2 1-byte close payload → 1002', () =>
    open(async (client) => {
      client.sendFrame({ opcode: OP.close, payload: Buffer.from([0x03]) });
      await expectFailure(client, 1002);
    }));

  it('7.3.3 close 1000 without reason → 1000', () => open((c) => expectCleanClose(c, 1000)));

  it('7.3.4 close 1000 with a reason → 1000', () =>
    open(async (client) => {
      client.sendClose(1000, 'Hello World!');
      await expectOneClose(client, 1000);
    }));

  it('7.3.5 close 1000 with a 123-byte reason (125-byte payload) → 1000', () =>
    open(async (client) => {
      client.sendClose(1000, Buffer.alloc(123, '*'));
      await expectOneClose(client, 1000);
    }));

  it('7.3.6 close 1000 with a 124-byte reason (126-byte payload) → 1002', () =>
    open(async (client) => {
      client.sendClose(1000, Buffer.alloc(124, '*'));
      await expectFailure(client, 1002);
    }));

  it('7.5.1 close reason that is not UTF-8 → 1007', () =>
    open(async (client) => {
      client.sendClose(1000, Buffer.from(`${KOSME_HEX}eda080656469746564`, 'hex'));
      await expectFailure(client, 1007);
    }));

  it('7.x close reason with a UTF-8 sequence cut at the end → 1007', () =>
    open(async (client) => {
      client.sendClose(1000, Buffer.from('cebae1bd', 'hex'));
      await expectFailure(client, 1007);
    }));

  it('7.x valid multi-byte UTF-8 close reason → 1000', () =>
    open(async (client) => {
      client.sendClose(1000, Buffer.from(KOSME_HEX, 'hex'));
      await expectOneClose(client, 1000);
    }));
});

describe('7.7 valid close codes are echoed', () => {
  const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999];
  VALID.forEach((code, i) => {
    it(`7.7.${i + 1} close ${code} → ${code}`, () =>
      open(async (client) => {
        client.sendClose(code, randomBytes(8).toString('hex'));
        await expectOneClose(client, code);
      }));
  });
});

describe('7.9 / 7.13 invalid close codes fail with 1002', () => {
  const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  INVALID.forEach((code) => {
    it(`close ${code} → 1002`, () =>
      open(async (client) => {
        client.sendClose(code);
        await expectFailure(client, 1002);
      }));
  });
});
