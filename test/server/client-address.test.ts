// mod_remoteip semantics for the client address (the Origin checks built on it: origin.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveClientAddress, TrustedProxies, unmapIPv4 } from '../../src/server/client-address.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, gatewayConfig, testLog } from './config-fixture.js';
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
