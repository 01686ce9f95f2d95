// Per-Location limits: WebSocketMaxConnections (503) and MaxMessageSize counted over the whole
// (fragmented) message — 1009 for version 13, 1004 for the hybi drafts 7 and 8.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { fragment, OP } from './frame-builder.js';
import { SMALL_LIMIT, startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { binary, expectCleanClose, expectFailure, expectMessages, expectPongs, text, withClient } from './outcome.js';
import { HandshakeRefused, openWebSocket, type RawClient } from './raw-client.js';
import { openHixie, randomHixieKey, type HixieClient } from './hixie-client.js';

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway();
});
afterAll(() => gateway?.close());

describe('WebSocketMaxConnections 1 on /limited', () => {
  it('a second connection → 503; after the first closes, a new one is accepted', async () => {
    const first = await openWebSocket({ port: gateway.port, path: '/limited' });
    try {
      const second = await openWebSocket({ port: gateway.port, path: '/limited' }).catch((error: unknown) => error);
      expect(second).toBeInstanceOf(HandshakeRefused);
      expect((second as HandshakeRefused).head.status).toBe(503);
      // The limit is per Location: /echo is unaffected.
      await withClient({ port: gateway.port, path: '/echo' }, (c) => expectCleanClose(c));
      await expectCleanClose(first);
    } finally {
      first.destroy();
    }
    // The slot is released once the first connection is gone (bounded retry: release may lag the TCP close).
    let third: unknown;
    for (let attempt = 0; attempt < 20; attempt++) {
      third = await openWebSocket({ port: gateway.port, path: '/limited' }).catch((error: unknown) => error);
      if (!(third instanceof HandshakeRefused)) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(third).not.toBeInstanceOf(Error);
    if (!(third instanceof Error)) (third as { destroy(): void }).destroy();
  });
});

describe('WebSocketMaxConnections under races and drops', () => {
  /** Bounded retry: the slot is released when the server notices the disconnect, a moment after it. */
  async function openWhenFree(): Promise<RawClient> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await openWebSocket({ port: gateway.port, path: '/limited' });
      } catch (error) {
        if (!(error instanceof HandshakeRefused) || attempt >= 40) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  it('a connection dropped without a close frame releases its slot', async () => {
    const first = await openWhenFree();
    first.destroy();
    const next = await openWhenFree();
    await expectCleanClose(next);
    next.destroy();
  });

  it('6 simultaneous handshakes for 1 slot: exactly one 101, the others 503', async () => {
    let attempts: PromiseSettledResult<RawClient>[] = [];
    // Bounded: a slot freed by the previous test may be released a moment after its TCP close.
    for (let round = 0; round < 20; round++) {
      attempts = await Promise.allSettled(Array.from({ length: 6 }, () => openWebSocket({ port: gateway.port, path: '/limited' })));
      if (attempts.some((a) => a.status === 'fulfilled')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const opened = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    const statuses = attempts.flatMap((a) => (a.status === 'rejected' ? [(a.reason as HandshakeRefused).head?.status] : []));
    try {
      expect(opened.length).toBe(1);
      expect(statuses).toEqual([503, 503, 503, 503, 503]);
    } finally {
      for (const client of opened) client.destroy();
    }
  });
});

describe(`MaxMessageSize ${SMALL_LIMIT} on /small`, () => {
  const CODES = [
    { version: 13, code: 1009 },
    { version: 8, code: 1004 },
    { version: 7, code: 1004 },
  ] as const;

  for (const { version, code } of CODES) {
    it(`v${version}: a message of exactly ${SMALL_LIMIT} bytes is echoed`, () =>
      withClient({ port: gateway.port, path: '/small', version }, async (client) => {
        const payload = randomBytes(SMALL_LIMIT);
        client.sendFrame({ opcode: OP.binary, payload });
        await expectMessages(client, [binary(payload)]);
        await expectCleanClose(client);
      }));

    it(`v${version}: ${SMALL_LIMIT + 1} bytes in one frame → ${code}`, () =>
      withClient({ port: gateway.port, path: '/small', version }, async (client) => {
        client.sendFrame({ opcode: OP.text, payload: Buffer.alloc(SMALL_LIMIT + 1, 'a') });
        await expectFailure(client, code);
        await expectMessages(client, []);
      }));

    it(`v${version}: 3 fragments of 400 bytes (each under, together over the limit) → ${code}`, () =>
      withClient({ port: gateway.port, path: '/small', version }, async (client) => {
        client.sendFrames(fragment(OP.binary, randomBytes(1200), [400, 400, 400]));
        await expectFailure(client, code);
        await expectMessages(client, []);
      }));
  }

  for (const version of [8, 7] as const) {
    it(`v${version}: a client close with 1004 (hybi-0${version}'s "too large") is a valid code, echoed`, () =>
      withClient({ port: gateway.port, path: '/small', version }, (client) => expectCleanClose(client, 1004)));
  }
  it('v13: a client close with 1004 (reserved in RFC 6455) → 1002', () =>
    withClient({ port: gateway.port, path: '/small' }, async (client) => {
      client.sendClose(1004);
      await expectFailure(client, 1002);
    }));

  for (const { version, code } of CODES) {
    it(`v${version}: a header announcing 2^63-1 bytes, then silence: ${code} at once, without waiting for the masking key`, () =>
      withClient({ port: gateway.port, path: '/small', version }, async (client) => {
        // FIN + binary, MASK + 127, the largest 63-bit length; the 4-byte masking key never comes.
        client.send(Buffer.from('82ff7fffffffffffffff', 'hex'));
        await expectFailure(client, code, { timeoutMs: 2000 });
        await expectMessages(client, []);
      }));
  }

  it('the limit fails fast: over-limit first fragment of a message that never completes → 1009', () =>
    withClient({ port: gateway.port, path: '/small' }, async (client) => {
      client.sendFrames([
        { opcode: OP.binary, payload: randomBytes(600), fin: false },
        { opcode: OP.continuation, payload: randomBytes(600), fin: false },
      ]);
      await expectFailure(client, 1009);
    }));

  it('the limit is per message: many messages under the limit, and pings, pass', () =>
    withClient({ port: gateway.port, path: '/small' }, async (client) => {
      const messages = Array.from({ length: 10 }, (_, i) => text(Buffer.alloc(1000, String(i))));
      client.sendFrames([
        ...messages.flatMap((m) => fragment(OP.text, m.data, [500, 500])),
        { opcode: OP.ping, payload: 'still alive' },
      ]);
      await expectMessages(client, messages);
      await expectPongs(client, [Buffer.from('still alive')]);
      await expectCleanClose(client);
    }));
});

describe('hixie-76 on /small', () => {
  async function hixieSmall(): Promise<HixieClient> {
    const keys = { key1: randomHixieKey(), key2: randomHixieKey(), key3: randomBytes(8) };
    const client = await openHixie(gateway.port, '/small', keys);
    expect(client.head.status).toBe(101);
    expect(await client.waitFor(() => client.bytes.length >= 16, 2000)).toBe(true);
    return client;
  }

  it(`a ${SMALL_LIMIT}-byte text is echoed; ${SMALL_LIMIT + 1} bytes → connection closed, no echo`, async () => {
    const client = await hixieSmall();
    try {
      client.sendText('a'.repeat(SMALL_LIMIT));
      expect(await client.waitFor(() => client.texts(16).length === 1, 2000)).toBe(true);
      client.sendText('b'.repeat(SMALL_LIMIT + 1));
      expect(await client.waitFor(() => client.tcpClosed, 3000), 'oversized hixie message left the connection open').toBe(true);
      expect(client.texts(16)).toEqual(['a'.repeat(SMALL_LIMIT)]);
    } finally {
      client.destroy();
    }
  });

  it('a hixie frame that never ends is cut off at the limit, not buffered forever', async () => {
    const client = await hixieSmall();
    try {
      client.socket.write(Buffer.concat([Buffer.from([0x00]), Buffer.alloc(SMALL_LIMIT * 4, 'c')]));
      expect(await client.waitFor(() => client.tcpClosed, 3000)).toBe(true);
      expect(client.texts(16)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  it('invalid UTF-8 in a hixie text frame → connection closed, no echo', async () => {
    const client = await hixieSmall();
    try {
      client.socket.write(Buffer.from('00eda080ff', 'hex'));
      expect(await client.waitFor(() => client.tcpClosed, 3000)).toBe(true);
      expect(client.texts(16)).toEqual([]);
    } finally {
      client.destroy();
    }
  });
});

