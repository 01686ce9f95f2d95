// Which ports a <VirtualHost> answers on, and which vhosts no listener can reach (a `*:80` block
// carried over from Apache onto a gateway listening on 8080 is never chosen).
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../../src/server/gateway.js';
import { addressPort, unreachableVhosts, vhostPorts } from '../../src/server/vhost-ports.js';
import { endpoint, gatewayConfig, vhost } from './config-fixture.js';

describe('vhost ports', () => {
  it('reads the port of addr:port and [v6]:port; *, *:*, _default_ and bare hosts mean any port', () => {
    expect(['*:80', '127.0.0.1:8080', '[::1]:443', '_default_:81'].map(addressPort)).toEqual([80, 8080, 443, 81]);
    expect(['*', '*:*', '_default_', 'example.com', '[::1]', '::1'].map(addressPort)).toEqual(Array(6).fill(undefined));
    expect(vhostPorts(vhost('a', [], ['*:80', '*:8080']))).toEqual(new Set([80, 8080]));
    expect(vhostPorts(vhost('a', [], ['*:80', '*']))).toBeUndefined();
  });

  it('finds the vhosts whose ports the gateway does not listen on', () => {
    const apachePort = vhost('old.example.com', [], ['*:80']);
    const both = vhost('both.example.com', [], ['*:80', '*:8080']);
    const any = vhost('any.example.com', [], ['*']);
    const config = gatewayConfig([endpoint('/a', { vhost: apachePort }), endpoint('/b', { vhost: both }), endpoint('/c', { vhost: any })]);
    expect(unreachableVhosts(config, [8080])).toEqual([apachePort]);
    expect(unreachableVhosts(config, [80])).toEqual([]);
  });
});

describe('startGateway and unreachable vhosts', () => {
  it('logs a warning naming each <VirtualHost> no listener can reach', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const apacheSide = vhost('old.example.com', [], ['*:80']);
    const config = gatewayConfig([endpoint('/a', { vhost: apacheSide }), endpoint('/b')]);
    const gw = await startGateway(config, { log });
    await gw.close();
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string; serverName?: string; vhost?: string });
    expect(warnings.filter((w) => /no listener has this <VirtualHost> port/.test(w.msg))).toMatchObject([{ serverName: 'old.example.com', vhost: '*:80' }]);
  });
});
