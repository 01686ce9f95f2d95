// Opening handshakes of every version mod_websocket served (RFC 6455 v13, hybi v7/v8, hixie-76,
// hixie-75) and the HTTP status of every way a handshake can fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { buildFrame, OP } from './frame-builder.js';
import { startConformanceGateway, type ConformanceGateway } from './gateway-fixture.js';
import { exchange, handshake, header, requestBytes } from './http-wire.js';
import { hixie76Answer, hixieRequest, openHixie, randomHixieKey, type Hixie76Keys } from './hixie-client.js';
import { expectCleanClose, expectFailure, expectMessages, text, withClient } from './outcome.js';
import { acceptFor, HandshakeRefused, openWebSocket, RawClient } from './raw-client.js';

const HANDSHAKE_TIMEOUT_S = 1;

let gateway: ConformanceGateway;
beforeAll(async () => {
  gateway = await startConformanceGateway({ handshakeTimeout: HANDSHAKE_TIMEOUT_S });
});
afterAll(() => gateway?.close());

function hybiHeaders(overrides: Record<string, string | undefined> = {}): [string, string][] {
  const base: Record<string, string | undefined> = {
    Host: `127.0.0.1:${gateway.port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...overrides,
  };
  return Object.entries(base).flatMap(([k, v]) => (v === undefined ? [] : [[k, v] as [string, string]]));
}

async function statusOf(path: string, headers: [string, string][], method = 'GET'): Promise<{ status: number | undefined; describe: string }> {
  const answer = await exchange(gateway.port, requestBytes(path, headers, undefined, method), 3000);
  return { status: answer.head?.status, describe: answer.bytes.toString('latin1').slice(0, 300) };
}

describe('successful handshakes', () => {
  for (const version of [13, 8, 7] as const) {
    it(`version ${version}: 101 with the right Accept, then echo and clean close`, () =>
      withClient({ port: gateway.port, version }, async (client) => {
        expect(client.head.status).toBe(101);
        expect(header(client.head, 'upgrade')?.toLowerCase()).toBe('websocket');
        expect(header(client.head, 'connection')?.toLowerCase()).toContain('upgrade');
        expect(header(client.head, 'sec-websocket-protocol')).toBeUndefined();
        client.sendFrame({ opcode: OP.text, payload: `hello v${version}` });
        await expectMessages(client, [text(`hello v${version}`)]);
        await expectCleanClose(client);
      }));
  }

  it('header names and the Upgrade/Connection tokens are case-insensitive; Connection may list several tokens', async () => {
    const key = randomBytes(16).toString('base64');
    const answer = await exchange(
      gateway.port,
      requestBytes('/echo?x=1', [
        ['host', `127.0.0.1:${gateway.port}`],
        ['UPGRADE', 'WebSocket'],
        ['connection', 'keep-alive, Upgrade'],
        ['sec-websocket-key', key],
        ['SEC-WEBSOCKET-VERSION', '13'],
      ]),
      1000,
    );
    expect(answer.head?.status, answer.bytes.toString('latin1')).toBe(101);
  });

  it('an offered permessage-deflate is not accepted, so RSV1 stays a protocol error (1002)', () =>
    withClient(
      { port: gateway.port, headers: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']] },
      async (client) => {
        expect(header(client.head, 'sec-websocket-extensions')).toBeUndefined();
        client.sendFrame({ opcode: OP.text, payload: 'compressed?', rsv: 4 });
        await expectFailure(client, 1002);
      },
    ));

  it('frames sent in the same write as the handshake request are processed after the 101', async () => {
    const key = randomBytes(16).toString('base64');
    const request = requestBytes('/echo', hybiHeaders({ 'Sec-WebSocket-Key': key }));
    const { socket, head, leftover } = await handshake(gateway.port, Buffer.concat([request, buildFrame({ opcode: OP.text, payload: 'early' })]));
    const client = new RawClient(socket, head, leftover);
    try {
      expect(head.status).toBe(101);
      expect(header(head, 'sec-websocket-accept')).toBe(acceptFor(key));
      await expectMessages(client, [text('early')]);
      await expectCleanClose(client);
    } finally {
      client.destroy();
    }
  });

  it('hixie-76: the draft\'s own example keys give its known answer "fQJ,fN/4F4!~K~MH"', async () => {
    const keys: Hixie76Keys = {
      key1: '18x 6]8vM;54 *(5:  {   U1]8  z [  8',
      key2: '1_ tx7X d  <  nw  334J702) 7]o}` 0',
      key3: Buffer.from('Tm[K T2u', 'latin1'),
    };
    expect(hixie76Answer(keys).toString('latin1')).toBe('fQJ,fN/4F4!~K~MH'); // our own helper first
    const client = await openHixie(gateway.port, '/echo', keys);
    try {
      expect(client.head.status).toBe(101);
      expect(await client.waitFor(() => client.bytes.length >= 16, 2000)).toBe(true);
      expect(client.bytes.subarray(0, 16).toString('latin1')).toBe('fQJ,fN/4F4!~K~MH');
    } finally {
      client.destroy();
    }
  });

  it('hixie-76: random keys, Sec-WebSocket-Location/Origin, MD5 answer, then text echo', async () => {
    const keys: Hixie76Keys = { key1: randomHixieKey(), key2: randomHixieKey(), key3: randomBytes(8) };
    const client = await openHixie(gateway.port, '/echo', keys);
    try {
      expect(client.head.status).toBe(101);
      expect(header(client.head, 'sec-websocket-location')).toBe(`ws://127.0.0.1:${gateway.port}/echo`);
      expect(header(client.head, 'sec-websocket-origin')).toBe('http://127.0.0.1');
      expect(await client.waitFor(() => client.bytes.length >= 16, 2000)).toBe(true);
      expect(client.bytes.subarray(0, 16).equals(hixie76Answer(keys))).toBe(true);
      client.sendText('hello κόσμε');
      client.sendText('second');
      expect(await client.waitFor(() => client.texts(16).length >= 2, 2000)).toBe(true);
      expect(client.texts(16)).toEqual(['hello κόσμε', 'second']);
      // Closing handshake: 0xFF 0x00 answered with 0xFF 0x00, then the server closes TCP.
      const before = client.bytes.length;
      client.socket.write(Buffer.from([0xff, 0x00]));
      expect(await client.waitFor(() => client.tcpClosed, 3000), 'hixie-76 close left TCP open').toBe(true);
      expect(client.bytes.subarray(before).toString('hex')).toBe('ff00');
    } finally {
      client.destroy();
    }
  });

  it('hixie-76: the 8-byte body arriving 200 ms after the head still completes the handshake', async () => {
    const keys: Hixie76Keys = { key1: randomHixieKey(), key2: randomHixieKey(), key3: randomBytes(8) };
    const request = hixieRequest(gateway.port, '/echo', keys);
    const socket = net.connect({ host: '127.0.0.1', port: gateway.port });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(request.subarray(0, request.length - 8));
      await new Promise((resolve) => setTimeout(resolve, 200));
      socket.write(Buffer.concat([request.subarray(request.length - 8), Buffer.from('00', 'hex'), Buffer.from('late'), Buffer.from('ff', 'hex')]));
      const expected = Buffer.concat([hixie76Answer(keys), Buffer.from('00', 'hex'), Buffer.from('late'), Buffer.from('ff', 'hex')]);
      const deadline = Date.now() + 2000;
      while (!Buffer.concat(received).includes(expected) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      const all = Buffer.concat(received);
      expect(all.subarray(0, 12).toString('latin1'), all.toString('latin1')).toBe('HTTP/1.1 101');
      expect(all.subarray(all.length - expected.length).equals(expected), all.toString('hex')).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  it('a v13 handshake written one octet at a time', async () => {
    const key = randomBytes(16).toString('base64');
    const request = requestBytes('/echo', hybiHeaders({ 'Sec-WebSocket-Key': key }));
    const socket = net.connect({ host: '127.0.0.1', port: gateway.port });
    socket.on('error', () => undefined);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.setNoDelay(true);
      for (const byte of request) {
        socket.write(Buffer.from([byte]));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const deadline = Date.now() + 2000;
      while (!answer.includes('\r\n\r\n') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
      expect(answer).toContain(acceptFor(key));
    } finally {
      socket.destroy();
    }
  });

  it('hixie-75 on a Location with SupportDraft75 On: 101 with WebSocket-Location, then echo', async () => {
    const client = await openHixie(gateway.port, '/draft75', undefined);
    try {
      expect(client.head.status).toBe(101);
      expect(header(client.head, 'websocket-location')).toBe(`ws://127.0.0.1:${gateway.port}/draft75`);
      expect(header(client.head, 'websocket-origin')).toBe('http://127.0.0.1');
      client.sendText('hello 75');
      expect(await client.waitFor(() => client.texts(0).length >= 1, 2000)).toBe(true);
      expect(client.texts(0)).toEqual(['hello 75']);
    } finally {
      client.destroy();
    }
  });
});

describe('refused handshakes', () => {
  for (const version of ['0', '6', '9', '12', '14', 'abc']) {
    it(`unsupported Sec-WebSocket-Version ${version} → 400 with "Sec-WebSocket-Version: 13, 8, 7"`, async () => {
      const answer = await exchange(gateway.port, requestBytes('/echo', hybiHeaders({ 'Sec-WebSocket-Version': version })), 3000);
      expect(answer.head?.status, answer.bytes.toString('latin1')).toBe(400);
      expect(answer.head && header(answer.head, 'sec-websocket-version')).toBe('13, 8, 7');
    });
  }

  const MALFORMED: [string, Record<string, string | undefined>][] = [
    ['no Sec-WebSocket-Key', { 'Sec-WebSocket-Key': undefined }],
    ['Sec-WebSocket-Key not base64', { 'Sec-WebSocket-Key': 'this is not base64!!!!==' }],
    ['Sec-WebSocket-Key of 15 bytes', { 'Sec-WebSocket-Key': randomBytes(15).toString('base64') }],
    ['Sec-WebSocket-Key of 17 bytes', { 'Sec-WebSocket-Key': randomBytes(17).toString('base64') }],
    ['empty Sec-WebSocket-Key', { 'Sec-WebSocket-Key': '' }],
    ['Upgrade: h2c instead of websocket', { Upgrade: 'h2c' }],
  ];
  for (const [what, overrides] of MALFORMED) {
    it(`${what} → 400`, async () => {
      const { status, describe } = await statusOf('/echo', hybiHeaders(overrides));
      expect(status, describe).toBe(400);
    });
  }

  it('HTTP/1.0 upgrade request → 400 (RFC 6455 §4.1 requires HTTP/1.1)', async () => {
    const request = Buffer.from(requestBytes('/echo', hybiHeaders()).toString('latin1').replace('HTTP/1.1', 'HTTP/1.0'), 'latin1');
    const answer = await exchange(gateway.port, request, 3000);
    expect(answer.head?.status, answer.bytes.toString('latin1').slice(0, 200)).toBe(400);
  });

  it('no Host header → 400', async () => {
    const { status, describe } = await statusOf('/echo', hybiHeaders({ Host: undefined }));
    expect(status, describe).toBe(400);
  });

  for (const [what, key1] of [
    ['a hixie-76 key without spaces', '1234567'],
    ['a hixie-76 key whose number is not a multiple of its spaces', '1 2 3 4 5 6 7 8 9 1 0'],
  ]) {
    it(`${what} → refused (400 or dropped), never 101`, async () => {
      const keys: Hixie76Keys = { key1: key1!, key2: randomHixieKey(), key3: randomBytes(8) };
      const answer = await exchange(gateway.port, hixieRequest(gateway.port, '/echo', keys), 3000);
      expect(answer.head === undefined ? answer.tcpClosed : answer.head.status === 400, answer.bytes.toString('latin1').slice(0, 200)).toBe(true);
    });
  }

  it('offered subprotocols that the handler does not choose: 101 without Sec-WebSocket-Protocol', () =>
    withClient({ port: gateway.port, headers: [['Sec-WebSocket-Protocol', 'chat, superchat']] }, async (client) => {
      expect(header(client.head, 'sec-websocket-protocol')).toBeUndefined();
      await expectCleanClose(client);
    }));

  it('bytes that are not HTTP → 400 or dropped, and the gateway keeps serving', async () => {
    const answer = await exchange(gateway.port, Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n', 'latin1'), 3000);
    expect(answer.head === undefined ? answer.tcpClosed : answer.head.status === 400, answer.bytes.toString('latin1').slice(0, 200)).toBe(true);
    await withClient({ port: gateway.port }, (client) => expectCleanClose(client));
  });

  it('two Sec-WebSocket-Key headers → 400', async () => {
    const headers = hybiHeaders();
    headers.push(['Sec-WebSocket-Key', randomBytes(16).toString('base64')]);
    const { status, describe } = await statusOf('/echo', headers);
    expect(status, describe).toBe(400);
  });

  it('POST with upgrade headers → 400 (or 405): the method must be GET', async () => {
    const { status, describe } = await statusOf('/echo', [...hybiHeaders(), ['Content-Length', '0']], 'POST');
    expect([400, 405], describe).toContain(status);
  });

  it('Connection without the upgrade token → 400 or 426, never 101', async () => {
    const { status, describe } = await statusOf('/echo', hybiHeaders({ Connection: 'keep-alive' }));
    expect([400, 426], describe).toContain(status);
  });

  it('a plain GET of a WebSocket Location → 426 Upgrade Required with "Upgrade: websocket"', async () => {
    const answer = await exchange(gateway.port, requestBytes('/echo', [['Host', `127.0.0.1:${gateway.port}`], ['Connection', 'close']]), 3000);
    expect(answer.head?.status, answer.bytes.toString('latin1')).toBe(426);
    expect(answer.head && header(answer.head, 'upgrade')?.toLowerCase()).toBe('websocket');
  });

  it('hixie-75 where SupportDraft75 is Off → 400', async () => {
    const client = await openHixie(gateway.port, '/echo', undefined).catch((error: Error) => error);
    if (client instanceof Error) throw client;
    try {
      expect(client.head.status).toBe(400);
    } finally {
      client.destroy();
    }
  });

  it('no matching Location → 404', async () => {
    await expect(openWebSocket({ port: gateway.port, path: '/nowhere' })).rejects.toMatchObject({ head: { status: 404 } });
  });

  it('the handler declines in onConnect → 403, and the handler never sees a message', async () => {
    const refused = await openWebSocket({ port: gateway.port, path: '/decline' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(HandshakeRefused);
    expect((refused as HandshakeRefused).head.status).toBe(403);
  });

  it('request headers over the limit (64 KiB) → 431', async () => {
    const answer = await exchange(gateway.port, requestBytes('/echo', [...hybiHeaders(), ['X-Padding', 'a'.repeat(64 * 1024)]]), 3000);
    expect(answer.head?.status, answer.bytes.toString('latin1').slice(0, 200)).toBe(431);
  });

  it(`half a handshake is dropped after WebSocketHandshakeTimeout (${HANDSHAKE_TIMEOUT_S} s)`, async () => {
    const partial = Buffer.from(`GET /echo HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nUpgrade: websocket\r\n`, 'latin1');
    const limit = HANDSHAKE_TIMEOUT_S * 1000 + 3000;
    const answer = await exchange(gateway.port, partial, limit, limit);
    expect(answer.tcpClosed, 'the server kept a half-sent handshake open').toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_S * 1000 - 100);
  });

  it(`hixie-76 without its 8-byte body is dropped after WebSocketHandshakeTimeout (${HANDSHAKE_TIMEOUT_S} s)`, async () => {
    const keys: Hixie76Keys = { key1: randomHixieKey(), key2: randomHixieKey(), key3: Buffer.alloc(0) };
    const request = requestBytes('/echo', [
      ['Host', `127.0.0.1:${gateway.port}`],
      ['Connection', 'Upgrade'],
      ['Upgrade', 'WebSocket'],
      ['Sec-WebSocket-Key1', keys.key1],
      ['Sec-WebSocket-Key2', keys.key2],
    ]);
    const limit = HANDSHAKE_TIMEOUT_S * 1000 + 3000;
    const answer = await exchange(gateway.port, Buffer.concat([request, Buffer.from('abc')]), limit, limit);
    expect(answer.tcpClosed, 'the server kept a hixie-76 handshake without its body open').toBe(true);
    expect(answer.elapsedMs).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_S * 1000 - 100);
    // The 101 head goes out before the key bytes are read (proxies hold them back until it does);
    // the 16-byte answer never follows, so no client completes the handshake.
    const text = answer.bytes.toString('latin1');
    expect(text.startsWith('HTTP/1.1 101') && text.endsWith('\r\n\r\n'), text).toBe(true);
  });
});

describe('strict Sec-WebSocket-Protocol and Sec-WebSocket-Key (RFC 6455 §4.2.1, RFC 7230 lists)', () => {
  const badProtocols: Array<[string, string]> = [
    ['an empty list element', 'chat,,superchat'],
    ['a trailing comma', 'chat,'],
    ['a leading comma', ', chat'],
    ['only OWS', ' '],
    ['a space inside a value', 'my chat'],
    ['a quoted value', '"chat"'],
    ['a slash', 'a/b'],
    ['a backslash', 'a\\b'],
    ['braces', '{}'],
    ['a semicolon', 'chat;v=1'],
    ['a tab inside a value', 'a\tb'],
    ['a control character', 'a\x01b'],
  ];
  const badKeys: Array<[string, string]> = [
    ['21 characters', 'AAAAAAAAAAAAAAAAAAAAA=='],
    ['a 17-byte key', 'AAAAAAAAAAAAAAAAAAAAAAA='],
    ['non-zero padding bits (22nd char R)', 'dGhlIHNhbXBsZSBub25jZR=='],
    ['non-zero padding bits (22nd char /)', 'AAAAAAAAAAAAAAAAAAAAA/=='],
    ['no padding', 'AAAAAAAAAAAAAAAAAAAAAA'],
    ['a character outside base64', 'AAAAAAAAAAAAAAAAAAA-AA=='],
  ];
  for (const version of ['13', '8', '7']) {
    for (const [what, value] of badProtocols) {
      it(`version ${version}: Sec-WebSocket-Protocol with ${what} → 400`, async () => {
        const { status, describe } = await statusOf('/echo', hybiHeaders({ 'Sec-WebSocket-Version': version, 'Sec-WebSocket-Protocol': value }));
        expect(status, describe).toBe(400);
      });
    }
    it(`version ${version}: an empty Sec-WebSocket-Protocol line among several → 400; tokens over several lines → 101`, async () => {
      const base = hybiHeaders({ 'Sec-WebSocket-Version': version });
      const empty = await statusOf('/echo', [...base, ['Sec-WebSocket-Protocol', 'chat'], ['Sec-WebSocket-Protocol', '']]);
      expect(empty.status, empty.describe).toBe(400);
      const good = await statusOf('/echo', [...base, ['Sec-WebSocket-Protocol', 'chat ,\tsuperchat'], ['Sec-WebSocket-Protocol', "v2.json, x-!#$%&'*+-.^_`|~"]]);
      expect(good.status, good.describe).toBe(101);
    });
    for (const [what, key] of badKeys) {
      it(`version ${version}: Sec-WebSocket-Key with ${what} → 400`, async () => {
        const { status, describe } = await statusOf('/echo', hybiHeaders({ 'Sec-WebSocket-Version': version, 'Sec-WebSocket-Key': key }));
        expect(status, describe).toBe(400);
      });
    }
    it(`version ${version}: keys ending in A, Q, g and w are canonical → 101`, async () => {
      for (const last of 'AQgw') {
        const { status, describe } = await statusOf('/echo', hybiHeaders({ 'Sec-WebSocket-Version': version, 'Sec-WebSocket-Key': `AAAAAAAAAAAAAAAAAAAAA${last}==` }));
        expect(status, describe).toBe(101);
      }
    });
  }
  it('the 400 names the problem', async () => {
    const answer = await exchange(gateway.port, requestBytes('/echo', hybiHeaders({ 'Sec-WebSocket-Protocol': 'a/b' })), 3000);
    expect(answer.head?.status).toBe(400);
    expect(answer.body.toString('utf8')).toMatch(/Sec-WebSocket-Protocol/);
  });
});
