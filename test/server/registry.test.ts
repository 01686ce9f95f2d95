// The registry seen through Gateway: ids, lookups, groups, broadcast (hybi and hixie), chat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import { endpoint, fixture, gatewayConfig, jsHandler, repoRoot, testLog } from './config-fixture.js';
import { closed, nextMessage, openWs, RawClient, wsUrl } from './helpers.js';
import { resolve } from 'node:path';

/** Messages a client receives within `ms`. */
function collect(ws: WebSocket, ms: number): Promise<string[]> {
  const got: string[] = [];
  const onMessage = (data: Buffer): void => {
    got.push(data.toString());
  };
  ws.on('message', onMessage);
  return new Promise((r) =>
    setTimeout(() => {
      ws.off('message', onMessage);
      r(got);
    }, ms),
  );
}

describe('registry', () => {
  let gw: RunningGateway;
  let port: number;
  const sockets: WebSocket[] = [];
  const open = async (path: string): Promise<WebSocket> => {
    const ws = await openWs(wsUrl(gw, path));
    sockets.push(ws);
    return ws;
  };
  beforeAll(async () => {
    gw = await startGateway(
      gatewayConfig([
        endpoint('/a', { handler: fixture('behaviours.mjs', 'grouped') }),
        endpoint('/b', { handler: fixture('behaviours.mjs', 'grouped') }),
        endpoint('/chat', { handler: jsHandler(resolve(repoRoot, 'handlers/chat.mjs')) }),
        endpoint('/count', { handler: fixture('behaviours.mjs', 'counted') }),
      ]),
      { log: testLog },
    );
    port = gw.addresses[0]!.port;
  });
  afterAll(async () => {
    for (const ws of sockets) ws.terminate();
    await gw.close();
  });

  it('generates 10-character base32 ids and uses ?id= when given', async () => {
    await open('/a');
    await open('/a?id=alice');
    const ids = gw.gateway.local({ location: '/a' }).map((c) => c.id);
    expect(ids).toContain('alice');
    expect(ids.filter((id) => id !== 'alice')[0]).toMatch(/^[A-Z2-7]{10}$/);
    const alice = gw.gateway.get('alice')!;
    expect(alice.location).toBe('/a');
    expect(alice.path).toBe('/a');
    expect(alice.query.get('id')).toBe('alice');
  });

  it('send, close and join/leave by id; unknown ids reach nobody', async () => {
    const bob = await open('/b?id=bob');
    const message = nextMessage(bob);
    expect(await gw.gateway.send('bob', 'pushed')).toEqual({ count: 1, unreachable: [] });
    expect((await message).data.toString()).toBe('pushed');
    expect((await gw.gateway.send('nobody', 'x')).count).toBe(0);
    expect((await gw.gateway.join('bob', 'vip')).count).toBe(1);
    expect(gw.gateway.local({ group: 'vip' }).map((c) => c.id)).toEqual(['bob']);
    expect((await gw.gateway.leave('bob', 'vip')).count).toBe(1);
    expect(gw.gateway.local({ group: 'vip' })).toEqual([]);
    expect((await gw.gateway.join('nobody', 'vip')).count).toBe(0);
    const done = closed(bob);
    expect((await gw.gateway.close('bob', 4100, 'kicked')).count).toBe(1);
    expect(await done).toEqual({ code: 4100, reason: 'kicked' });
    expect((await gw.gateway.close('bob')).count).toBe(0);
  });

  it('broadcast by Location, by group (leaving out one id); groups are left on disconnect', async () => {
    const g1 = await open('/a?id=g1&groups=red,blue');
    const g2 = await open('/b?id=g2&groups=red');
    const g3 = await open('/b?id=g3&groups=blue');
    expect(gw.gateway.get('g1')!.groups).toEqual(new Set(['red', 'blue']));

    const [r1, r2, r3] = [collect(g1, 150), collect(g2, 150), collect(g3, 150)];
    expect((await gw.gateway.broadcast('to-b', { location: '/b' })).count).toBe(2);
    expect((await gw.gateway.broadcast('to-red', { group: 'red', except: 'g2' })).count).toBe(1);
    expect((await gw.gateway.broadcast('to-blue-on-b', { group: 'blue', location: '/b' })).count).toBe(1);
    expect(await r1).toEqual(['to-red']);
    expect(await r2).toEqual(['to-b']);
    expect(await r3).toEqual(['to-b', 'to-blue-on-b']);

    g1.close();
    await closed(g1);
    await new Promise((r) => setTimeout(r, 30));
    expect(gw.gateway.local({ group: 'red' }).map((c) => c.id)).toEqual(['g2']);
  });

  it('broadcast reaches hixie-76 clients with hixie framing', async () => {
    const raw = await RawClient.open(port);
    raw.write(
      'GET /a?id=old-browser HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: WebSocket\r\n' +
        'Sec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\nSec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:ds[4U',
    );
    await raw.until((b) => b.includes('8jKS'));
    const modern = await open('/a?id=modern');
    const got = nextMessage(modern);
    expect((await gw.gateway.broadcast('hello all', { location: '/a' })).count).toBeGreaterThanOrEqual(2);
    expect((await got).data.toString()).toBe('hello all');
    const received = await raw.until((b) => b.includes('hello all'));
    expect(received.subarray(received.length - 11).toString('latin1')).toBe('\x00hello all\xff');
    raw.destroy();
  });

  it('the chat handler broadcasts to its Location, or to the ?room= group only', async () => {
    const lobby1 = await open('/chat');
    const lobby2 = await open('/chat');
    const roomA1 = await open('/chat?room=a');
    const roomA2 = await open('/chat?room=a');
    const [l1, l2, a1, a2] = [collect(lobby1, 200), collect(lobby2, 200), collect(roomA1, 200), collect(roomA2, 200)];
    lobby1.send('hi everyone');
    roomA1.send('hi room a');
    expect(await l1).toEqual(['hi everyone']);
    expect(await l2).toEqual(['hi everyone']);
    expect((await a1).sort()).toEqual(['hi everyone', 'hi room a']);
    expect((await a2).sort()).toEqual(['hi everyone', 'hi room a']);
  });

  it('a factory export is called once per endpoint and gets the gateway', async () => {
    const events = ((globalThis as { __wsgateTestEvents?: Array<{ kind: string; location?: string }> }).__wsgateTestEvents ??= []);
    expect(events.filter((e) => e.kind === 'factory' && e.location === '/count')).toHaveLength(1);
    const ws = await open('/count');
    ws.send('?');
    expect((await nextMessage(ws)).data.toString()).toBe('/count 1');
  });
});
