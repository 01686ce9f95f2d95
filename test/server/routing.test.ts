// VirtualHost + Location routing as Apache does it, unit-level and over a socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostName } from '../../src/server/host-name.js';
import { Router } from '../../src/server/router.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, gatewayConfig, testLog, vhost } from './config-fixture.js';
import { handshakeStatus, nextMessage, openWs, wsUrl } from './helpers.js';

describe('Router', () => {
  const site = vhost('ws.example.com', ['*.ws.example.com', 'alt?.example.org'], ['*:80']);
  const other = vhost('other.example.com', [], ['*:80']);
  const elsewhere = vhost('elsewhere.example.com', [], ['127.0.0.1:9090']);
  const mainEcho = endpoint('/echo');
  const mainRegex = endpoint('^/rooms/[a-z]+$', { regex: true });
  const siteEcho = endpoint('/echo', { vhost: site });
  const siteDeep = endpoint('/echo/deep', { vhost: site });
  const siteLater = endpoint('/echo/d', { vhost: site });
  const otherChat = endpoint('/chat', { vhost: other });
  const elsewhereChat = endpoint('/chat', { vhost: elsewhere });
  const router = new Router(gatewayConfig([mainEcho, mainRegex, siteEcho, siteDeep, siteLater, otherChat, elsewhereChat]));

  it('matches ServerName and ServerAlias wildcards, case-insensitively, ignoring the port', () => {
    // Last match wins: /echo and /echo/deep match /echo/deep/x; /echo/d does not (segment boundary).
    expect(router.route('ws.example.com', 80, '/echo/deep/x')).toBe(siteDeep);
    expect(router.route('WS.Example.COM:80', 80, '/echo/d/x')).toBe(siteLater);
    expect(router.route('ws.example.com', 80, '/echo/dx')).toBe(siteEcho);
    expect(router.route('ws.example.com', 80, '/echo/x')).toBe(siteEcho);
    expect(router.route('a.ws.example.com', 80, '/chat')).toBeUndefined();
    expect(router.route('alt1.example.org', 80, '/rooms/abc')).toBe(mainRegex);
    expect(router.route('other.example.com', 80, '/chat')).toBe(otherChat);
  });

  it('falls back to the first vhost on the port for an unknown Host, and to the main server off-port', () => {
    expect(router.route('unknown.example', 80, '/echo')).toBe(siteEcho);
    expect(router.route(undefined, 80, '/chat')).toBeUndefined();
    expect(router.route('unknown.example', 8080, '/echo')).toBe(mainEcho);
    expect(router.route('elsewhere.example.com', 9090, '/chat')).toBe(elsewhereChat);
    expect(router.route('elsewhere.example.com', 80, '/chat')).toBeUndefined();
  });

  it('main-server Locations apply inside vhosts, with the vhost\'s own sections after them', () => {
    expect(router.route('ws.example.com', 80, '/rooms/abc')).toBe(mainRegex);
    expect(router.route('ws.example.com', 80, '/rooms/ABC')).toBeUndefined();
    expect(router.route('ws.example.com', 80, '/echo')).toBe(siteEcho);
  });

  it("uses Apache's <Location> matching: a prefix that ends at a path segment", () => {
    expect(router.route('x', 8080, '/echo')).toBe(mainEcho);
    expect(router.route('x', 8080, '/echo/')).toBe(mainEcho);
    expect(router.route('x', 8080, '/echo/x')).toBe(mainEcho);
    expect(router.route('x', 8080, '/echoes')).toBeUndefined();
    expect(router.route('x', 8080, '/ech')).toBeUndefined();
  });

  it('hostName strips ports, IPv6 brackets and a trailing dot, and lower-cases', () => {
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('example.com:1')).toBe('example.com');
    expect(hostName('Example.COM.:8080')).toBe('example.com');
    expect(hostName('')).toBeUndefined();
  });

  it('ignores the scheme and port written in ServerName and ServerAlias, as Apache does', () => {
    const ported = vhost('WS.Example.com:8080', ['alias.example.com:443', '*.wild.example.com:80'], ['*:80']);
    const schemed = vhost('https://secure.example.com', ['http://[2001:db8::1]:8080/'], ['*:80']);
    const first = endpoint('/first', { vhost: vhost('first.example.com', [], ['*:80']) });
    const portedChat = endpoint('/chat', { vhost: ported });
    const schemedChat = endpoint('/chat', { vhost: schemed });
    const r = new Router(gatewayConfig([first, portedChat, schemedChat]));
    expect(r.route('ws.example.com', 80, '/chat')).toBe(portedChat);
    expect(r.route('ws.EXAMPLE.com:8080', 80, '/chat')).toBe(portedChat);
    expect(r.route('ws.example.com.', 80, '/chat')).toBe(portedChat);
    expect(r.route('alias.example.com', 80, '/chat')).toBe(portedChat);
    expect(r.route('a.b.wild.example.com:80', 80, '/chat')).toBe(portedChat);
    expect(r.route('secure.example.com', 80, '/chat')).toBe(schemedChat);
    expect(r.route('[2001:db8::1]:80', 80, '/chat')).toBe(schemedChat);
    // An unknown name still falls back to the first vhost on the port, which has no /chat.
    expect(r.route('https', 80, '/chat')).toBeUndefined();
  });
});

describe('routing over a socket', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    // The first vhost is the default for unknown Hosts; it has no Locations of its own.
    const fallback = vhost('default.test');
    const site = vhost('site.test');
    // Valid Apache spellings that carry a port or a scheme: the names alone pick the vhost.
    const ported = vhost('ported.test:8080');
    const schemed = vhost('https://schemed.test', ['*.alias.test:443']);
    const config = gatewayConfig([
        endpoint('/where', { handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('^/where/v[0-9]+$', { regex: true, handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('/where', { vhost: site, handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('/decline', { vhost: site, handler: fixture('behaviours.mjs', 'decline') }),
        endpoint('/ported', { vhost: ported, handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('/schemed', { vhost: schemed, handler: fixture('behaviours.mjs', 'counted') }),
      ]);
    config.virtualHosts = [fallback, site, ported, schemed];
    gw = await startGateway(config, { log: testLog });
  });
  afterAll(() => gw.close());

  const where = async (path: string, host?: string): Promise<string> => {
    const ws = await openWs(wsUrl(gw, path), undefined, host ? { headers: { Host: host } } : {});
    ws.send('?');
    const reply = (await nextMessage(ws)).data.toString();
    ws.terminate();
    return reply.split(' ')[0]!;
  };

  it('routes by Host, prefix and regex, last match winning', async () => {
    expect(await where('/where/v2')).toBe('^/where/v[0-9]+$');
    expect(await where('/where/x')).toBe('/where');
    expect(await where('/where/v2', 'site.test')).toBe('/where');
    expect((await handshakeStatus(wsUrl(gw, '/decline'), undefined, { headers: { Host: 'site.test' } })).status).toBe(403);
    expect((await handshakeStatus(wsUrl(gw, '/decline'))).status).toBe(404);
  });

  it('routes to vhosts whose ServerName/ServerAlias carry a port or a scheme', async () => {
    const port = gw.addresses[0]!.port;
    expect(await where('/ported', 'ported.test')).toBe('/ported');
    expect(await where('/ported', `PORTED.test:${port}`)).toBe('/ported');
    expect(await where('/schemed', 'schemed.test')).toBe('/schemed');
    expect(await where('/schemed', `x.alias.test:${port}`)).toBe('/schemed');
    expect((await handshakeStatus(wsUrl(gw, '/ported'), undefined, { headers: { Host: 'schemed.test' } })).status).toBe(404);
  });
});
