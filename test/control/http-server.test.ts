import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WsgateError } from '../../src/errors.js';
import { startHttpServer, type RunningHttpServer } from '../../src/control/http-server.js';
import { FakeGateway } from './fake-gateway.js';
import { silentLog } from './helpers.js';

const loc = { file: '/etc/wsgate.conf', line: 7, column: 1 };
const token = 's3cret-token';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: any;
}

function call(port: number, method: string, path: string, options: { body?: Buffer | string; type?: string; auth?: string | null; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.type) headers['content-type'] = options.type;
    if (options.auth !== null) headers.authorization = options.auth ?? `Bearer ${token}`;
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text === '' ? undefined : JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('HTTP control API (fake gateway)', () => {
  let gateway: FakeGateway;
  let server: RunningHttpServer | undefined;
  let port: number;

  beforeEach(async () => {
    gateway = new FakeGateway();
    gateway.add('a', '/chat', ['room']);
    gateway.add('b', '/echo');
    server = await startHttpServer({ host: '127.0.0.1', port: 0, loc, token, registry: gateway, log: silentLog });
    port = server.address.port;
  });
  afterEach(async () => {
    await server?.close();
  });

  it('asks for the bearer token with 401 and WWW-Authenticate', async () => {
    const none = await call(port, 'GET', '/connections', { auth: null });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="wsgate"');
    const wrong = await call(port, 'POST', '/broadcast', { auth: 'Bearer s3cret-tokeN', body: 'x', type: 'text/plain' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    expect((await call(port, 'GET', '/connections', { auth: `Basic ${token}` })).status).toBe(401);
    expect(gateway.conns.get('a')!.sent).toEqual([]);
    expect((await call(port, 'GET', '/connections', { auth: `bearer ${token}` })).status).toBe(200);
  });

  it('lists connections with filters and describes one', async () => {
    gateway.add('closing', '/chat', ['room']).isOpen = false;
    const all = await call(port, 'GET', '/connections');
    expect(all.status).toBe(200);
    expect(all.json.connections.map((c: { id: string }) => c.id)).toEqual(['a', 'b']);
    expect((await call(port, 'GET', '/connections/closing')).status).toBe(404);
    const chat = await call(port, 'GET', '/connections?location=%2Fchat');
    expect(chat.json.connections.map((c: { id: string }) => c.id)).toEqual(['a']);
    const room = await call(port, 'GET', '/connections?group=room');
    expect(room.json.connections).toHaveLength(1);
    const one = await call(port, 'GET', '/connections/a');
    expect(one.json).toEqual({
      id: 'a',
      remoteAddress: '127.0.0.1',
      remotePort: 40001,
      location: '/chat',
      path: '/chat',
      version: 13,
      protocol: '',
      origin: null,
      groups: ['room'],
      connectedAt: '2026-01-02T03:04:05.000Z',
      member: '',
    });
    const missing = await call(port, 'GET', '/connections/zz');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('CONTROL_NOT_FOUND');
  });

  it('sends text, JSON text, base64 and raw binary bodies as the right frame type', async () => {
    expect((await call(port, 'POST', '/connections/a/send', { body: 'hé\nllo', type: 'text/plain; charset=utf-8' })).json).toEqual({ sent: 1 });
    await call(port, 'POST', '/connections/a/send', { body: JSON.stringify({ text: '{"x":1}' }), type: 'application/json' });
    await call(port, 'POST', '/connections/a/send', { body: JSON.stringify({ base64: Buffer.from([1, 2, 255]).toString('base64') }), type: 'application/json' });
    await call(port, 'POST', '/connections/a/send', { body: Buffer.from([0, 0xff]), type: 'application/octet-stream' });
    await call(port, 'POST', '/connections/a/send', { body: Buffer.from('no type') });
    await call(port, 'POST', '/connections/a/send', { body: Buffer.from([0x63, 0x61, 0x66, 0xe9]), type: 'text/plain; charset=ISO-8859-1' });
    expect(gateway.conns.get('a')!.sent).toEqual([
      { data: 'hé\nllo', isBinary: false },
      { data: '{"x":1}', isBinary: false },
      { data: Buffer.from([1, 2, 255]), isBinary: true },
      { data: Buffer.from([0, 0xff]), isBinary: true },
      { data: Buffer.from('no type'), isBinary: true },
      { data: 'café', isBinary: false },
    ]);
  });

  it('broadcasts to a location or group and closes with a code', async () => {
    expect((await call(port, 'POST', '/broadcast', { body: 'all', type: 'text/plain' })).json).toEqual({ sent: 2 });
    expect((await call(port, 'POST', '/broadcast?location=/echo', { body: 'echo', type: 'text/plain' })).json).toEqual({ sent: 1 });
    expect((await call(port, 'POST', '/broadcast?group=room', { body: 'room', type: 'text/plain' })).json).toEqual({ sent: 1 });
    expect(gateway.conns.get('b')!.sent.map((s) => s.data)).toEqual(['all', 'echo']);
    expect(gateway.conns.get('a')!.sent.map((s) => s.data)).toEqual(['all', 'room']);
    const closed = await call(port, 'POST', '/connections/a/close', { body: JSON.stringify({ code: 4001, reason: 'done' }), type: 'application/json' });
    expect(closed.json).toEqual({ closed: true });
    expect(gateway.conns.get('a')!.closedWith).toEqual({ code: 4001, reason: 'done' });
    expect((await call(port, 'POST', '/connections/a/close')).status).toBe(404);
    expect((await call(port, 'POST', '/connections/b/close')).json).toEqual({ closed: true });
  });

  it('joins and leaves groups', async () => {
    expect((await call(port, 'PUT', '/connections/b/groups/news')).json).toEqual({ joined: true });
    expect(gateway.conns.get('b')!.groups.has('news')).toBe(true);
    expect((await call(port, 'DELETE', '/connections/b/groups/news')).json).toEqual({ left: true });
    expect(gateway.conns.get('b')!.groups.has('news')).toBe(false);
  });

  it('maps bad requests to 400, 404, 405 and 413', async () => {
    const badJson = await call(port, 'POST', '/connections/a/send', { body: '{"text":', type: 'application/json' });
    expect([badJson.status, badJson.json.error.code]).toEqual([400, 'CONTROL_COMMAND']);
    expect((await call(port, 'POST', '/connections/a/send', { body: '{"text":"a","base64":"AA=="}', type: 'application/json' })).status).toBe(400);
    expect((await call(port, 'POST', '/connections/a/send', { body: '{"base64":"!!"}', type: 'application/json' })).status).toBe(400);
    expect((await call(port, 'POST', '/connections/a/send', { body: Buffer.from([0xc3, 0x28]), type: 'text/plain' })).status).toBe(400);
    expect((await call(port, 'POST', '/connections/a/close', { body: '{"code":1006}', type: 'application/json' })).status).toBe(400);
    expect((await call(port, 'POST', '/connections/a/send', { body: 'x', type: 'text/plain; charset=klingon' })).status).toBe(415);
    expect((await call(port, 'GET', '/nothing')).status).toBe(404);
    expect((await call(port, 'GET', '/connections/a/send/x')).status).toBe(404);
    const wrongMethod = await call(port, 'GET', '/broadcast');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect((await call(port, 'DELETE', '/connections')).headers.allow).toBe('GET');
    const huge = Buffer.alloc(48 * 1024 * 1024, 0x61);
    const tooBig = await call(port, 'POST', '/connections/a/send', { body: huge, type: 'application/octet-stream' });
    expect([tooBig.status, tooBig.json.error.code]).toEqual([413, 'MESSAGE_TOO_BIG']);
    expect(gateway.conns.get('a')!.sent).toEqual([]);
  });

  it('refuses a non-loopback address without a token, pointing at the directive', async () => {
    const err = await startHttpServer({ host: '0.0.0.0', port: 0, loc, token: undefined, registry: gateway, log: silentLog }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WsgateError);
    expect((err as WsgateError).code).toBe('CONTROL_AUTH');
    expect((err as WsgateError).format()).toMatch(/^\/etc\/wsgate\.conf:7:1: WebSocketControlListen 0\.0\.0\.0:0 is not a loopback address/);
  });

  it('serves loopback without a token', async () => {
    const open = await startHttpServer({ host: '127.0.0.1', port: 0, loc, token: undefined, registry: gateway, log: silentLog });
    try {
      const answer = await call(open.address.port, 'GET', '/connections', { auth: null });
      expect(answer.status).toBe(200);
      expect(answer.json.connections).toHaveLength(2);
      expect((await call(open.address.port, 'GET', '/connections', { auth: null, headers: { host: `[::1]:${open.address.port}` } })).status).toBe(200);
      // A web page in a local browser (Origin), or one reached through DNS rebinding (Host), gets nothing.
      const fromPage = await call(open.address.port, 'POST', '/broadcast', { auth: null, body: 'x', type: 'text/plain', headers: { origin: 'https://evil.example' } });
      expect([fromPage.status, fromPage.json.error.code]).toEqual([403, 'CONTROL_AUTH']);
      const rebound = await call(open.address.port, 'POST', '/broadcast', { auth: null, body: 'x', type: 'text/plain', headers: { host: `evil.example:${open.address.port}` } });
      expect(rebound.status).toBe(403);
      expect(gateway.conns.get('a')!.sent).toEqual([]);
    } finally {
      await open.close();
    }
  });
});
