// The control channel against a real gateway: ws clients on real sockets, commands through the
// real UNIX socket and HTTP API.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { converse } from './helpers.js';
import { liveToken as token, startLiveGateway, type LiveGateway } from './live-gateway.js';
import type { Inbox } from './ws-clients.js';

describe('control channel against a real gateway', () => {
  let live: LiveGateway;
  let socketPath: string;
  let httpBase: string;

  beforeAll(async () => {
    live = await startLiveGateway();
    socketPath = live.socketPath;
    httpBase = live.httpBase;
  });
  afterAll(() => live?.close());

  const client = (location: '/echo' | '/board', extra = '') => live.client(location, extra);

  const http = (method: string, path: string, body?: string | Buffer, type?: string, auth: string | null = `Bearer ${token}`) =>
    fetch(`${httpBase}${path}`, {
      method,
      headers: { ...(type && { 'content-type': type }), ...(auth !== null && { authorization: auth }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : new Uint8Array(body) }),
    });

  it('lists connections over the socket, briefly and in detail', async () => {
    const a = await client('/board', '&room=r1');
    const b = await client('/echo');
    const answer = await converse(socketPath, 'LIST WEBSOCKETS\n', (got) => got.includes('END'));
    const count = Number(/^OK (\d+)$/.exec(answer[0]!)![1]);
    expect(answer).toHaveLength(count + 2);
    expect(answer[count + 1]).toBe('END');
    const peers = new Map(answer.slice(1, count + 1).map((l) => l.split(' ') as [string, string]));
    const localPort = (inbox: Inbox) => (inbox.ws as unknown as { _socket: { localPort: number } })._socket.localPort;
    expect(peers.get(a.id)).toBe(`127.0.0.1:${localPort(a.inbox)}`);
    expect(peers.get(b.id)).toBe(`127.0.0.1:${localPort(b.inbox)}`);
    const detail = await converse(socketPath, `LIST DETAILS /board @r1\nINFO ${b.id}\n`, 6);
    expect(detail[0]).toBe('OK 1');
    expect(JSON.parse(detail[1]!)).toMatchObject({ id: a.id, location: '/board', path: '/board', version: 13, groups: ['r1'] });
    expect(detail.slice(2, 4)).toEqual(['END', 'OK 1']);
    expect(JSON.parse(detail[4]!)).toMatchObject({ id: b.id, location: '/echo' });
    expect(detail[5]).toBe('END');
    a.inbox.ws.close();
    b.inbox.ws.close();
  });

  it('sends text, text with newlines and 1 MiB of binary through the socket, intact', async () => {
    const a = await client('/board');
    const text = 'first line\nsecond line\r\n\u00e9\u20ac';
    const big = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 131 + 17) & 0xff;
    const input = Buffer.concat([
      Buffer.from(`SEND MESSAGE ${a.id} plain text\n`),
      Buffer.from(`SENDT ${a.id} ${Buffer.byteLength(text)}\n${text}`),
      Buffer.from(`SENDB ${a.id} ${big.length}\n`),
      big,
    ]);
    expect(await converse(socketPath, input, 3)).toEqual(['OK SENT 1', 'OK SENT 1', 'OK SENT 1']);
    expect(await a.inbox.nextText()).toBe('plain text');
    expect(await a.inbox.nextText()).toBe(text);
    const binary = await a.inbox.next();
    expect(binary.isBinary).toBe(true);
    expect(binary.data.equals(big)).toBe(true);
    a.inbox.ws.close();
  });

  it('broadcasts to a Location or a group only', async () => {
    const a = await client('/board', '&room=blue');
    const b = await client('/board');
    const c = await client('/echo');
    const answer = await converse(socketPath, `BROADCAST /board to the board\nBROADCASTT @blue 4\nblueSEND MESSAGE ${c.id} direct\n`, 3);
    expect(answer[0]).toMatch(/^OK SENT \d+$/);
    expect(Number(answer[0]!.split(' ')[2])).toBeGreaterThanOrEqual(2);
    expect(answer.slice(1)).toEqual(['OK SENT 1', 'OK SENT 1']);
    expect(await a.inbox.nextText()).toBe('to the board');
    expect(await a.inbox.nextText()).toBe('blue');
    expect(await b.inbox.nextText()).toBe('to the board');
    // c is on /echo: the first thing it gets is the direct message, not the broadcast.
    expect(await c.inbox.nextText()).toBe('direct');
    for (const x of [a, b, c]) x.inbox.ws.close();
  });

  it('closes a connection with a code and reason, then forgets its id', async () => {
    const a = await client('/echo');
    expect(await converse(socketPath, `CLOSE ${a.id} 4001 going away now\n`, 1)).toEqual(['OK CLOSED']);
    expect(await a.inbox.closed).toEqual({ code: 4001, reason: 'going away now' });
    let answer: string[] = [];
    for (let i = 0; i < 50; i++) {
      answer = await converse(socketPath, `INFO ${a.id}\n`, 1);
      if (answer[0]!.startsWith('ERR')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(answer[0]).toBe(`ERR CONTROL_NOT_FOUND no open connection with id '${a.id}'`);
  });

  it('answers pipelined good and bad commands in order', async () => {
    const a = await client('/echo');
    const answer = await converse(socketPath, `PING\nSEND MESSAGE nobody x\nFROB\nSEND MESSAGE ${a.id} one\nCLOSE ${a.id} 1006\nSEND MESSAGE ${a.id} two\n`, 6);
    expect(answer.map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'OK PONG',
      'ERR CONTROL_NOT_FOUND',
      'ERR CONTROL_COMMAND',
      'OK SENT',
      'ERR CONTROL_COMMAND',
      'OK SENT',
    ]);
    expect(await a.inbox.nextText()).toBe('one');
    expect(await a.inbox.nextText()).toBe('two');
    a.inbox.ws.close();
  });

  it('does everything over HTTP with the token and nothing without it', async () => {
    const a = await client('/board', '&room=green');
    const refused = await http('POST', `/connections/${a.id}/send`, 'sneaky', 'text/plain', null);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await http('GET', '/connections', undefined, undefined, 'Bearer wrong')).status).toBe(401);

    const list = (await (await http('GET', '/connections?group=green')).json()) as { connections: Array<{ id: string }> };
    expect(list.connections.map((c) => c.id)).toEqual([a.id]);
    expect((await http('POST', `/connections/${a.id}/send`, JSON.stringify({ text: 'line\nbreak' }), 'application/json')).status).toBe(200);
    const big = Buffer.alloc(1024 * 1024, 0x5a);
    big[0] = 0;
    big[big.length - 1] = 0xff;
    expect(await (await http('POST', `/connections/${a.id}/send`, big, 'application/octet-stream')).json()).toEqual({ sent: 1 });
    expect(await (await http('POST', '/broadcast?group=green', 'to green', 'text/plain')).json()).toEqual({ sent: 1 });
    expect((await http('GET', '/connections/nobody')).status).toBe(404);

    expect(await a.inbox.nextText()).toBe('line\nbreak');
    const binary = await a.inbox.next();
    expect(binary.isBinary && binary.data.equals(big)).toBe(true);
    expect(await a.inbox.nextText()).toBe('to green');

    const closed = await http('POST', `/connections/${a.id}/close`, JSON.stringify({ code: 4002, reason: 'http says bye' }), 'application/json');
    expect(closed.status).toBe(200);
    expect(await a.inbox.closed).toEqual({ code: 4002, reason: 'http says bye' });
  });
});
