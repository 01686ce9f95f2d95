// Pushing to connections of a native (C) plugin: the example echo plugin, built by
// scripts/build-native.mjs, behind the control socket and the HTTP API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpoint } from '../server/config-fixture.js';
import { buildNative, examplePlugin, nativeSpec } from '../native/helpers.js';
import { converse } from './helpers.js';
import { liveToken, startLiveGateway, type LiveGateway } from './live-gateway.js';

describe('control channel to native-plugin connections', () => {
  let live: LiveGateway;
  beforeAll(async () => {
    buildNative();
    const native = endpoint('/native', { handler: nativeSpec(examplePlugin('echo'), 'echo_init'), settings: { sendQueueLimit: 64 * 1024 * 1024 } });
    live = await startLiveGateway([native]);
  }, 60_000);
  afterAll(() => live?.close());

  const http = (method: string, path: string, body?: string | Buffer, type?: string) =>
    fetch(`${live.httpBase}${path}`, {
      method,
      headers: { authorization: `Bearer ${liveToken}`, ...(type && { 'content-type': type }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : new Uint8Array(body) }),
    });

  it('lists, sends (text, text with newlines, 1 MiB binary), broadcasts and closes over the socket', async () => {
    const n = await live.client('/native');
    // The plugin is live: it echoes what the client sends.
    n.inbox.ws.send('ping from client');
    expect(await n.inbox.nextText()).toBe('ping from client');

    const list = await converse(live.socketPath, 'LIST WEBSOCKETS /native\nLIST DETAILS /native\n', 6);
    expect(list[0]).toBe('OK 1');
    expect(list[1]).toMatch(new RegExp(`^${n.id} 127\\.0\\.0\\.1:\\d+$`));
    expect(list.slice(2, 4)).toEqual(['END', 'OK 1']);
    expect(JSON.parse(list[4]!)).toMatchObject({ id: n.id, location: '/native', path: '/native', version: 13 });
    expect(list[5]).toBe('END');

    const text = 'line one\nline two\r\n\u00e9';
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 197 + 3) & 0xff;
    const input = Buffer.concat([
      Buffer.from(`SEND MESSAGE ${n.id} hello native\n`),
      Buffer.from(`SENDT ${n.id} ${Buffer.byteLength(text)}\n${text}`),
      Buffer.from(`SENDB ${n.id} ${big.length}\n`),
      big,
      Buffer.from('BROADCAST /native to every native client\n'),
    ]);
    expect(await converse(live.socketPath, input, 4)).toEqual(['OK SENT 1', 'OK SENT 1', 'OK SENT 1', 'OK SENT 1']);
    expect(await n.inbox.nextText()).toBe('hello native');
    expect(await n.inbox.nextText()).toBe(text);
    const binary = await n.inbox.next();
    expect(binary.isBinary).toBe(true);
    expect(binary.data.length).toBe(big.length);
    expect(binary.data.equals(big)).toBe(true);
    expect(await n.inbox.nextText()).toBe('to every native client');

    expect(await converse(live.socketPath, `CLOSE ${n.id} 4005 native bye\n`, 1)).toEqual(['OK CLOSED']);
    expect(await n.inbox.closed).toEqual({ code: 4005, reason: 'native bye' });
  });

  it('does the same over the HTTP API', async () => {
    const n = await live.client('/native');
    const listed = (await (await http('GET', '/connections?location=/native')).json()) as { connections: Array<{ id: string; location: string }> };
    expect(listed.connections).toEqual([expect.objectContaining({ id: n.id, location: '/native' })]);
    expect(await (await http('POST', `/connections/${n.id}/send`, 'multi\nline', 'text/plain')).json()).toEqual({ sent: 1 });
    const big = Buffer.alloc(1024 * 1024, 0xa5);
    big[0] = 0;
    expect(await (await http('POST', `/connections/${n.id}/send`, big, 'application/octet-stream')).json()).toEqual({ sent: 1 });
    expect(await (await http('POST', '/broadcast?location=/native', 'broadcast over http', 'text/plain')).json()).toEqual({ sent: 1 });
    expect(await n.inbox.nextText()).toBe('multi\nline');
    const binary = await n.inbox.next();
    expect(binary.isBinary && binary.data.equals(big)).toBe(true);
    expect(await n.inbox.nextText()).toBe('broadcast over http');
    const closed = await http('POST', `/connections/${n.id}/close`, JSON.stringify({ code: 4005, reason: 'http bye' }), 'application/json');
    expect(await closed.json()).toEqual({ closed: true });
    expect(await n.inbox.closed).toEqual({ code: 4005, reason: 'http bye' });
  });
});
