// Every handshake version and every refusal status, over real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';
import { clientFrame, closed, handshakeStatus, hybiRequest, nextMessage, openWs, RawClient, wsUrl } from './helpers.js';

describe('handshakes', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    gw = await startGateway(
      gatewayConfig([
        endpoint('/echo'),
        endpoint('/legacy', { settings: { supportDraft75: true } }),
        endpoint('/decline', { handler: fixture('behaviours.mjs', 'decline') }),
        endpoint('/teapot', { handler: fixture('behaviours.mjs', 'rejectTeapot') }),
        endpoint('/limited', { settings: { maxConnections: 1 } }),
        endpoint('/same-origin', { settings: { originCheck: 'same' } }),
        endpoint('/trusted-origin', { settings: { originCheck: 'trusted', trustedOrigins: ['https://app.example.com'] } }),
        endpoint('/pick', { handler: fixture('behaviours.mjs', 'protocolPicker') }),
        endpoint('/slow', { settings: { handshakeTimeout: 1 } }),
      ]),
      { log: testLog },
    );
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  it('accepts version 13 and 8 (ws client) and echoes', async () => {
    for (const protocolVersion of [13, 8]) {
      const ws = await openWs(wsUrl(gw, '/echo'), undefined, { protocolVersion });
      ws.send(`v${protocolVersion}`);
      expect((await nextMessage(ws)).data.toString()).toBe(`v${protocolVersion}`);
      ws.close();
      await closed(ws);
    }
  });

  it('accepts version 7 (raw) with the RFC 6455 accept key and echoes a masked frame', async () => {
    const raw = await RawClient.open(port);
    raw.write(hybiRequest('/echo', {}, '7'));
    const head = await raw.head();
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    raw.write(clientFrame(0x1, 'seven'));
    const reply = await raw.until((b) => b.includes('seven'));
    const frame = reply.subarray(reply.indexOf('\r\n\r\n') + 4);
    expect([...frame]).toEqual([0x81, 5, ...Buffer.from('seven')]);
    raw.destroy();
  });

  it('answers hixie-76 with the draft\'s known 16-byte answer, and echoes 0x00…0xFF frames', async () => {
    const raw = await RawClient.open(port);
    raw.write(
      'GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nOrigin: http://example.com\r\n' +
        'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n',
    );
    // The 8-byte body arrives in a later packet: the server must wait for it.
    await new Promise((r) => setTimeout(r, 50));
    raw.write('^n:ds[4U');
    const reply = await raw.until((b) => b.includes('\r\n\r\n') && b.length >= b.indexOf('\r\n\r\n') + 4 + 16);
    const head = reply.subarray(0, reply.indexOf('\r\n\r\n')).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101 WebSocket Protocol Handshake/);
    expect(head).toContain('Sec-WebSocket-Location: ws://127.0.0.1/echo');
    expect(head).toContain('Sec-WebSocket-Origin: http://example.com');
    const answer = reply.subarray(reply.indexOf('\r\n\r\n') + 4, reply.indexOf('\r\n\r\n') + 20).toString('latin1');
    expect(answer).toBe("8jKS'y:G*Co,Wxa-");
    raw.write(Buffer.concat([Buffer.from([0x00]), Buffer.from('hixie'), Buffer.from([0xff])]));
    const echoed = await raw.until((b) => b.includes('hixie'));
    expect(echoed.subarray(echoed.length - 7).toString('latin1')).toBe('\x00hixie\xff');
    raw.destroy();
  });

  const hixie75 = (path: string): string =>
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\nOrigin: http://example.com\r\n\r\n`;

  it('accepts hixie-75 only where SupportDraft75 is On', async () => {
    const on = await RawClient.open(port);
    on.write(hixie75('/legacy'));
    const head = await on.head();
    expect(head).toMatch(/^HTTP\/1\.1 101 Web Socket Protocol Handshake/);
    expect(head).toContain('WebSocket-Location: ws://127.0.0.1/legacy');
    on.destroy();

    const off = await RawClient.open(port);
    off.write(hixie75('/echo'));
    expect(await off.head()).toMatch(/^HTTP\/1\.1 400 /);
    await off.untilClosed();
    expect(off.received.toString()).toMatch(/SupportDraft75/);
  });

  it('refuses an unsupported version with 400 and Sec-WebSocket-Version: 13, 8, 7', async () => {
    const raw = await RawClient.open(port);
    raw.write(hybiRequest('/echo', {}, '12'));
    const head = await raw.head();
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head).toMatch(/\r\nSec-WebSocket-Version: 13, 8, 7/i);
  });

  it('refuses a malformed key with 400', async () => {
    const raw = await RawClient.open(port);
    raw.write(hybiRequest('/echo', { 'Sec-WebSocket-Key': 'short' }));
    expect(await raw.head()).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers 404 without a matching Location, 426 for a plain GET to one', async () => {
    expect((await handshakeStatus(wsUrl(gw, '/nowhere'))).status).toBe(404);
    const plain = await fetch(`http://127.0.0.1:${port}/echo`);
    expect(plain.status).toBe(426);
    expect(plain.headers.get('upgrade')).toBe('websocket');
    expect((await fetch(`http://127.0.0.1:${port}/nowhere`)).status).toBe(404);
  });

  it('answers 403 when the handler declines, without the headers it set', async () => {
    const declined = await handshakeStatus(wsUrl(gw, '/decline'));
    expect(declined.status).toBe(403);
    expect(declined.headers['x-should-not-appear']).toBeUndefined();
    const teapot = await handshakeStatus(wsUrl(gw, '/teapot'));
    expect(teapot.status).toBe(418);
    expect(teapot.body).toContain('I am a teapot');
  });

  it('checks Origin: Same (scheme, host and port) and Trusted (the list only); no Origin passes', async () => {
    const url = wsUrl(gw, '/same-origin');
    expect((await handshakeStatus(url, undefined, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await handshakeStatus(url, undefined, { origin: `http://127.0.0.1:${port}` })).status).toBe(101);
    expect((await handshakeStatus(url, undefined, { origin: `https://127.0.0.1:${port}` })).status).toBe(403);
    expect((await handshakeStatus(url)).status).toBe(101);
    const trusted = wsUrl(gw, '/trusted-origin');
    expect((await handshakeStatus(trusted, undefined, { origin: 'https://app.example.com' })).status).toBe(101);
    expect((await handshakeStatus(trusted, undefined, { origin: 'https://other.example.com' })).status).toBe(403);
    // Trusted does not fall back to same-origin (the fork's behaviour).
    expect((await handshakeStatus(trusted, undefined, { origin: `http://127.0.0.1:${port}` })).status).toBe(403);
  });

  it('answers 503 over WebSocketMaxConnections, and frees the slot on disconnect', async () => {
    const first = await openWs(wsUrl(gw, '/limited'));
    expect((await handshakeStatus(wsUrl(gw, '/limited'))).status).toBe(503);
    first.close();
    await closed(first);
    await new Promise((r) => setTimeout(r, 20));
    expect((await handshakeStatus(wsUrl(gw, '/limited'))).status).toBe(101);
  });

  it('answers 431 for an oversized request head', async () => {
    const huge = 'x'.repeat(20_000);
    const raw = await RawClient.open(port);
    raw.write(hybiRequest('/echo', { 'X-Big': huge }));
    expect(await raw.head()).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('drops a client that sends half a handshake (handshake timeout)', async () => {
    const raw = await RawClient.open(port);
    const started = Date.now();
    raw.write('GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await raw.untilClosed(8000);
    expect(raw.ended).toBe(true);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('drops a hixie-76 client whose 8-byte body never comes: the 101 head, then no answer', async () => {
    const raw = await RawClient.open(port);
    raw.write(
      'GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
        'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:d',
    );
    // The head goes out before the key bytes are read (behind mod_proxy they only come after it).
    expect(await raw.head()).toMatch(/^HTTP\/1\.1 101 /);
    await raw.untilClosed(5000);
    expect(raw.ended).toBe(true);
    expect(raw.received.toString('latin1').endsWith('\r\n\r\n')).toBe(true);
  });

  it('selects the subprotocol the handler chooses, else none; 101 carries handler headers', async () => {
    const chosen = await openWs(wsUrl(gw, '/pick'), ['chat.v1', 'chat.v2']);
    expect(chosen.protocol).toBe('chat.v2');
    chosen.send('who');
    expect((await nextMessage(chosen)).data.toString()).toMatch(/^hello [A-Z2-7]{10} chat\.v2 127\.0\.0\.1$/);
    chosen.close();

    // The handler picks nothing: the answer has no Sec-WebSocket-Protocol (ws then fails the
    // connection, as RFC 6455 requires of a client that offered protocols) — check the raw answer.
    const raw = await RawClient.open(port);
    raw.write(hybiRequest('/pick', { 'Sec-WebSocket-Protocol': 'chat.v1' }));
    const head = await raw.head();
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).not.toMatch(/Sec-WebSocket-Protocol/i);
    expect(head).toMatch(/\r\nX-Hello: world/i);
    raw.destroy();
  });

  it('versions 13, 8, 7: a Sec-WebSocket-Protocol that is not a token list → 400 before the handler; a token list reaches it', async () => {
    for (const version of ['13', '8', '7']) {
      for (const offer of ['chat.v1,,chat.v2', 'chat.v1 chat.v2', '"chat.v2"', 'chat/v2', 'chat.v2;q=1']) {
        const raw = await RawClient.open(port);
        raw.write(hybiRequest('/pick', { 'Sec-WebSocket-Protocol': offer }, version));
        const head = await raw.head();
        expect(head, `${version} ${offer}`).toMatch(/^HTTP\/1\.1 400 /);
        expect(head).not.toMatch(/X-Hello/i); // onConnect never ran
        raw.destroy();
      }
      const raw = await RawClient.open(port);
      raw.write(hybiRequest('/pick', { 'Sec-WebSocket-Protocol': 'chat.v1 ,\tchat.v2' }, version));
      const head = await raw.head();
      expect(head).toMatch(/^HTTP\/1\.1 101 /);
      expect(head).toMatch(/\r\nSec-WebSocket-Protocol: chat\.v2\r\n/);
      raw.destroy();
    }
  });

  it('versions 13, 8, 7: a Sec-WebSocket-Key that is not the canonical base64 of 16 bytes → 400', async () => {
    for (const version of ['13', '8', '7']) {
      for (const key of ['dGhlIHNhbXBsZSBub25jZR==', 'dGhlIHNhbXBsZSBub25jZQ=', 'dGhlIHNhbXBsZSBub25jZQ']) {
        const raw = await RawClient.open(port);
        raw.write(hybiRequest('/echo', { 'Sec-WebSocket-Key': key }, version));
        expect(await raw.head(), `${version} ${key}`).toMatch(/^HTTP\/1\.1 400 /);
        raw.destroy();
      }
    }
  });

  it('refuses an invalid ?id= with 400 and a duplicate live id with 409', async () => {
    expect((await handshakeStatus(wsUrl(gw, '/echo?id=bad%20id'))).status).toBe(400);
    expect((await handshakeStatus(wsUrl(gw, `/echo?id=${'x'.repeat(129)}`))).status).toBe(400);
    const first = await openWs(wsUrl(gw, '/echo?id=user-42'));
    expect(gw.gateway.get('user-42')).toBeDefined();
    expect((await handshakeStatus(wsUrl(gw, '/echo?id=user-42'))).status).toBe(409);
    first.close();
    await closed(first);
    await new Promise((r) => setTimeout(r, 20));
    expect(gw.gateway.get('user-42')).toBeUndefined();
    const again = await openWs(wsUrl(gw, '/echo?id=user-42'));
    again.close();
    await closed(again);
  });
});
