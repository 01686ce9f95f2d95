// WebSocketOriginCheck as the maintained mod_websocket fork does it: full origins compared exactly,
// the expected scheme taken from a trusted proxy's X-Forwarded-Proto only. Unit-level, then over sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseOrigin } from '../../src/config/origin-form.js';
import { originAllowed } from '../../src/server/origin.js';
import { pageScheme, socketScheme } from '../../src/server/scheme.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { defaultSettings, endpoint, gatewayConfig, testLog } from './config-fixture.js';
import { handshakeStatus, hybiRequest, RawClient, wsUrl } from './helpers.js';

describe('normaliseOrigin and pageScheme', () => {
  it('normalises case and default ports, and refuses anything that is not a bare origin', () => {
    expect(normaliseOrigin('HTTP://Example.COM:80')).toBe('http://example.com');
    expect(normaliseOrigin('https://example.com:443/')).toBe('https://example.com');
    expect(normaliseOrigin('https://example.com:80')).toBe('https://example.com:80');
    expect(normaliseOrigin('http://[::1]:8080')).toBe('http://[::1]:8080');
    for (const bad of ['null', '', 'example.com', 'http://u@example.com', 'http://example.com/x', 'http://example.com?q', 'file:///etc']) {
      expect(normaliseOrigin(bad), bad).toBeUndefined();
    }
  });

  it('maps X-Forwarded-Proto ws/wss to the page schemes http/https; anything else is unknown', () => {
    expect(['http', 'ws', 'HTTPS', 'wss', 'ftp', undefined].map(pageScheme)).toEqual(['http', 'http', 'https', 'https', undefined, undefined]);
    expect([socketScheme('http'), socketScheme('https')]).toEqual(['ws', 'wss']);
  });
});

describe('originAllowed', () => {
  const same = { ...defaultSettings, originCheck: 'same' as const };
  const trusted = { ...defaultSettings, originCheck: 'trusted' as const, trustedOrigins: ['https://app.example.com', 'http://legacy.example.com'] };
  const ctx = (origin: string | undefined, effectiveHost = 'www.example.com', effectiveScheme = 'https') => ({ origin, effectiveHost, effectiveScheme });

  it('Same compares scheme, host and port, with default ports normalised on both sides', () => {
    expect(originAllowed(same, ctx('https://www.example.com'))).toBe(true);
    expect(originAllowed(same, ctx('https://www.example.com:443', 'www.example.com'))).toBe(true);
    expect(originAllowed(same, ctx('https://WWW.example.com', 'www.example.com:443'))).toBe(true);
    expect(originAllowed(same, ctx('http://www.example.com', 'www.example.com:80', 'http'))).toBe(true);
    expect(originAllowed(same, ctx('http://www.example.com'))).toBe(false);
    expect(originAllowed(same, ctx('ftp://www.example.com', 'www.example.com', 'http'))).toBe(false);
    expect(originAllowed(same, ctx('https://www.example.com:8443'))).toBe(false);
    expect(originAllowed(same, ctx('https://evil.example'))).toBe(false);
    expect(originAllowed(same, ctx('null'))).toBe(false);
  });

  it('Same takes ws/wss as http/https, refuses an unknown scheme or Host, and lets a missing Origin through', () => {
    expect(originAllowed(same, ctx('https://www.example.com', 'www.example.com', 'wss'))).toBe(true);
    expect(originAllowed(same, ctx('http://www.example.com', 'www.example.com', 'ws'))).toBe(true);
    expect(originAllowed(same, ctx('https://www.example.com', 'www.example.com', 'gopher'))).toBe(false);
    expect(originAllowed(same, { origin: 'https://www.example.com', effectiveHost: undefined, effectiveScheme: 'https' })).toBe(false);
    // A Host that is not a plain host[:port] names no origin, even if a URL parser would find one in it.
    expect(originAllowed(same, ctx('https://www.example.com', 'evil.example@www.example.com'))).toBe(false);
    expect(originAllowed(same, { origin: undefined, effectiveHost: undefined, effectiveScheme: 'gopher' })).toBe(true);
  });

  it('Trusted accepts the listed origins (normalised) and nothing else, not even the same origin; Off accepts all', () => {
    expect(originAllowed(trusted, ctx('https://app.example.com:443'))).toBe(true);
    expect(originAllowed(trusted, ctx('http://LEGACY.example.com'))).toBe(true);
    expect(originAllowed(trusted, ctx('http://app.example.com'))).toBe(false);
    expect(originAllowed(trusted, ctx('https://www.example.com'))).toBe(false);
    expect(originAllowed(trusted, ctx(undefined))).toBe(true);
    expect(originAllowed({ ...defaultSettings, originCheck: 'off' }, ctx('ftp://evil.example'))).toBe(true);
  });
});

/** A gateway with a Same and a Trusted endpoint; `trustedProxies` decides whether 127.0.0.1 is a proxy. */
async function originGateway(trustedProxies: string[]): Promise<RunningGateway> {
  return startGateway(
    gatewayConfig(
      [
        endpoint('/same', { settings: { originCheck: 'same' } }),
        endpoint('/trusted', { settings: { originCheck: 'trusted', trustedOrigins: ['https://app.example.com'] } }),
      ],
      { remoteIp: { header: 'X-Forwarded-For', trustedProxies } },
    ),
    { log: testLog },
  );
}

const status = async (url: string, origin: string | undefined, headers: Record<string, string> = {}, protocolVersion = 13): Promise<number> =>
  (await handshakeStatus(url, undefined, { headers, protocolVersion, ...(origin === undefined ? {} : { origin }) })).status;

describe('Same and Trusted on a plain connection (over a socket)', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    gw = await originGateway(['10.0.0.0/8']);
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  it('Same refuses the right host and port under another scheme', async () => {
    const url = wsUrl(gw, '/same');
    expect(await status(url, `http://127.0.0.1:${port}`)).toBe(101);
    expect(await status(url, `https://127.0.0.1:${port}`)).toBe(403);
    expect(await status(url, `ftp://127.0.0.1:${port}`)).toBe(403);
    expect(await status(url, `ws://127.0.0.1:${port}`)).toBe(403);
    expect(await status(url, undefined)).toBe(101);
  });

  it('Same treats http://h and http://h:80 as one origin', async () => {
    const url = wsUrl(gw, '/same');
    expect(await status(url, 'http://127.0.0.1', { Host: '127.0.0.1:80' })).toBe(101);
    expect(await status(url, 'http://127.0.0.1:80', { Host: '127.0.0.1' })).toBe(101);
    expect(await status(url, 'https://127.0.0.1:443', { Host: '127.0.0.1' })).toBe(403);
  });

  it('ignores X-Forwarded-Proto and -Host from a peer that is not a trusted proxy', async () => {
    const url = wsUrl(gw, '/same');
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'chat.example.com' };
    expect(await status(url, `https://127.0.0.1:${port}`, forwarded)).toBe(403);
    expect(await status(url, 'https://chat.example.com', forwarded)).toBe(403);
    expect(await status(url, `http://127.0.0.1:${port}`, forwarded)).toBe(101);
  });

  it('reads Sec-WebSocket-Origin for versions 8 and 7, with the same scheme rule', async () => {
    const url = wsUrl(gw, '/same');
    expect(await status(url, `http://127.0.0.1:${port}`, {}, 8)).toBe(101);
    expect(await status(url, `https://127.0.0.1:${port}`, {}, 8)).toBe(403);
    for (const [origin, expected] of [[`http://127.0.0.1:${port}`, '101'], [`https://127.0.0.1:${port}`, '403']] as const) {
      const raw = await RawClient.open(port);
      raw.write(hybiRequest('/same', { Host: `127.0.0.1:${port}`, 'Sec-WebSocket-Origin': origin }, '7'));
      expect(await raw.head()).toMatch(new RegExp(`^HTTP/1\\.1 ${expected} `));
      raw.destroy();
    }
  });

  it('Trusted accepts only the listed origin, normalised, and does not fall back to same-origin', async () => {
    const url = wsUrl(gw, '/trusted');
    expect(await status(url, 'https://app.example.com')).toBe(101);
    expect(await status(url, 'https://APP.example.com:443')).toBe(101);
    expect(await status(url, 'http://app.example.com')).toBe(403);
    expect(await status(url, `http://127.0.0.1:${port}`)).toBe(403);
    expect(await status(url, undefined)).toBe(101);
  });
});

describe('Same behind a trusted proxy (over a socket)', () => {
  let gw: RunningGateway;
  let port: number;
  beforeAll(async () => {
    gw = await originGateway(['127.0.0.1']);
    port = gw.addresses[0]!.port;
  });
  afterAll(() => gw.close());

  it('expects the scheme the proxy forwards: https (or wss) accepted, the plain-http origin refused', async () => {
    const url = wsUrl(gw, '/same');
    expect(await status(url, `https://127.0.0.1:${port}`, { 'X-Forwarded-Proto': 'https' })).toBe(101);
    expect(await status(url, `http://127.0.0.1:${port}`, { 'X-Forwarded-Proto': 'https' })).toBe(403);
    expect(await status(url, `https://127.0.0.1:${port}`, { 'X-Forwarded-Proto': 'wss' })).toBe(101);
    expect(await status(url, `http://127.0.0.1:${port}`, { 'X-Forwarded-Proto': 'ws' })).toBe(101);
    expect(await status(url, `http://127.0.0.1:${port}`)).toBe(101);
  });

  it('combines X-Forwarded-Proto with X-Forwarded-Host, default port normalised; an unknown proto refuses', async () => {
    const url = wsUrl(gw, '/same');
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'chat.example.com' };
    expect(await status(url, 'https://chat.example.com:443', forwarded)).toBe(101);
    expect(await status(url, 'http://chat.example.com', forwarded)).toBe(403);
    expect(await status(url, `http://127.0.0.1:${port}`, { 'X-Forwarded-Proto': 'gopher' })).toBe(403);
    expect(await status(url, undefined, { 'X-Forwarded-Proto': 'gopher' })).toBe(101);
  });

  it('Trusted ignores the forwarded origin too: only the list counts', async () => {
    const forwarded = { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'chat.example.com' };
    expect(await status(wsUrl(gw, '/trusted'), 'https://chat.example.com', forwarded)).toBe(403);
    expect(await status(wsUrl(gw, '/trusted'), 'https://app.example.com', forwarded)).toBe(101);
  });
});
