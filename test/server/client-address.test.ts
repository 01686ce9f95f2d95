// mod_remoteip semantics for the client address, and the Origin checks built on it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveClientAddress, TrustedProxies, unmapIPv4 } from '../../src/server/client-address.js';
import { originAllowed } from '../../src/server/origin.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { defaultSettings, endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';
import { handshakeStatus, nextMessage, openWs, wsUrl } from './helpers.js';

describe('resolveClientAddress', () => {
  const config = { header: 'X-Forwarded-For', trustedProxies: ['10.0.0.0/8', '192.168.1.1', 'fd00::/8'] };
  const trusted = new TrustedProxies(config.trustedProxies);
  const xff = (value: string) => ({ 'x-forwarded-for': value });

  it('uses the TCP peer when it is not a trusted proxy, whatever the header says', () => {
    expect(resolveClientAddress('203.0.113.9', xff('1.2.3.4'), config, trusted)).toMatchObject({ address: '203.0.113.9', viaTrustedProxy: false });
  });

  it('takes the right-most untrusted entry behind trusted proxies', () => {
    expect(resolveClientAddress('10.1.2.3', xff('1.2.3.4, 5.6.7.8'), config, trusted).address).toBe('5.6.7.8');
    expect(resolveClientAddress('10.1.2.3', xff('1.2.3.4, 5.6.7.8, 192.168.1.1, 10.9.9.9'), config, trusted).address).toBe('5.6.7.8');
    // A client cannot pretend by prepending: the spoofed left entry is never reached.
    expect(resolveClientAddress('10.1.2.3', xff('6.6.6.6, 5.6.7.8'), config, trusted).address).toBe('5.6.7.8');
  });

  it('handles IPv4-mapped IPv6 peers and entries, and IPv6 ranges', () => {
    expect(unmapIPv4('::ffff:10.1.1.1')).toBe('10.1.1.1');
    expect(resolveClientAddress('::ffff:10.1.2.3', xff('::ffff:5.6.7.8'), config, trusted).address).toBe('5.6.7.8');
    expect(resolveClientAddress('fd12::1', xff('2001:db8::7'), config, trusted).address).toBe('2001:db8::7');
    expect(resolveClientAddress('2001:db8::1', xff('1.1.1.1'), config, trusted).address).toBe('2001:db8::1');
  });

  it('stops at garbage and keeps the last address it could vouch for; no header means the peer', () => {
    expect(resolveClientAddress('10.1.2.3', xff('1.2.3.4, not-an-ip, 10.2.2.2'), config, trusted).address).toBe('10.2.2.2');
    expect(resolveClientAddress('10.1.2.3', {}, config, trusted).address).toBe('10.1.2.3');
    expect(resolveClientAddress('10.1.2.3', xff('1.2.3.4'), { ...config, header: undefined }, trusted).address).toBe('10.1.2.3');
  });

  it('believes X-Forwarded-Host/-Proto only from trusted proxies', () => {
    const headers = { 'x-forwarded-host': 'www.example.com, inner', 'x-forwarded-proto': 'HTTPS' };
    expect(resolveClientAddress('10.0.0.1', headers, config, trusted)).toMatchObject({ forwardedHost: 'www.example.com', forwardedProto: 'https' });
    expect(resolveClientAddress('8.8.8.8', headers, config, trusted)).toMatchObject({ forwardedHost: undefined, forwardedProto: undefined });
  });

  it('rejects entries that are not addresses', () => {
    expect(() => new TrustedProxies(['10.0.0.0/8', 'proxy.local'])).toThrow(/proxy\.local/);
  });
});

describe('originAllowed', () => {
  const same = { ...defaultSettings, originCheck: 'same' as const };
  const trustedSettings = { ...defaultSettings, originCheck: 'trusted' as const, trustedOrigins: ['https://app.example.com'] };
  const ctx = (origin: string | undefined, effectiveHost = 'www.example.com', effectiveScheme = 'https') => ({ origin, effectiveHost, effectiveScheme });

  it('Same compares the origin host (default ports dropped) with the effective Host', () => {
    expect(originAllowed(same, ctx('https://www.example.com'))).toBe(true);
    expect(originAllowed(same, ctx('https://www.example.com:443', 'www.example.com:443'))).toBe(true);
    expect(originAllowed(same, ctx('https://www.example.com:8443'))).toBe(false);
    expect(originAllowed(same, ctx('https://evil.example'))).toBe(false);
    expect(originAllowed(same, ctx('null'))).toBe(false);
    expect(originAllowed(same, ctx(undefined))).toBe(true);
  });

  it('Trusted accepts the listed origins and same-origin; Off accepts all', () => {
    expect(originAllowed(trustedSettings, ctx('https://app.example.com'))).toBe(true);
    expect(originAllowed(trustedSettings, ctx('http://app.example.com'))).toBe(false);
    expect(originAllowed(trustedSettings, ctx('https://www.example.com'))).toBe(true);
    expect(originAllowed({ ...defaultSettings, originCheck: 'off' }, ctx('https://evil.example'))).toBe(true);
  });
});

describe('behind a trusted proxy (over a socket)', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    gw = await startGateway(
      gatewayConfig([endpoint('/who', { handler: fixture('behaviours.mjs', 'protocolPicker'), settings: { originCheck: 'same' } })], {
        remoteIp: { header: 'X-Forwarded-For', trustedProxies: ['127.0.0.1'] },
      }),
      { log: testLog },
    );
  });
  afterAll(() => gw.close());

  it('reports the forwarded client address and checks Origin against X-Forwarded-Host', async () => {
    const headers = { 'X-Forwarded-For': '198.51.100.7', 'X-Forwarded-Host': 'chat.example.com', 'X-Forwarded-Proto': 'https' };
    const ws = await openWs(wsUrl(gw, '/who'), undefined, { headers, origin: 'https://chat.example.com' });
    ws.send('?');
    expect((await nextMessage(ws)).data.toString()).toMatch(/ 198\.51\.100\.7$/);
    ws.terminate();
    expect((await handshakeStatus(wsUrl(gw, '/who'), undefined, { headers, origin: `http://127.0.0.1:${gw.addresses[0]!.port}` })).status).toBe(403);
  });
});
