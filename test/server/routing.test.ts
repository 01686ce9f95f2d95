// VirtualHost + Location routing as Apache does it, unit-level and over a socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Router, hostName } from '../../src/server/router.js';
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
    // Last match wins: /echo, /echo/deep and /echo/d all prefix /echo/deep/x.
    expect(router.route('ws.example.com', 80, '/echo/deep/x')).toBe(siteLater);
    expect(router.route('WS.Example.COM:80', 80, '/echo/dx')).toBe(siteLater);
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

  it('uses Apache prefix matching for <Location>', () => {
    expect(router.route('x', 8080, '/echoes')).toBe(mainEcho);
    expect(router.route('x', 8080, '/ech')).toBeUndefined();
  });

  it('hostName strips ports and IPv6 brackets', () => {
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('example.com:1')).toBe('example.com');
    expect(hostName('')).toBeUndefined();
  });
});

describe('routing over a socket', () => {
  let gw: RunningGateway;
  beforeAll(async () => {
    // The first vhost is the default for unknown Hosts; it has no Locations of its own.
    const fallback = vhost('default.test');
    const site = vhost('site.test');
    const config = gatewayConfig([
        endpoint('/where', { handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('^/where/v[0-9]+$', { regex: true, handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('/where', { vhost: site, handler: fixture('behaviours.mjs', 'counted') }),
        endpoint('/decline', { vhost: site, handler: fixture('behaviours.mjs', 'decline') }),
      ]);
    config.virtualHosts = [fallback, site];
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
});
