// The request_rec of a plugin compiled against httpd.h when the handshake came through the Apache
// proxy config wsgate generates: the client (from a second loopback address) is r->useragent_ip
// via the trusted X-Forwarded-For, the connection is Apache's, the host and port are what the
// client asked Apache for.
import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { parseBackend } from '../../src/apache/backend.js';
import { generateApacheConfig } from '../../src/apache/generate.js';
import { ProxyStyle } from '../../src/apache/style.js';
import { startGateway, type RunningGateway } from '../../src/server/gateway.js';
import WebSocket from 'ws';
import { openClient } from '../apache/clients.js';
import { apacheMissing, startHttpd, type Httpd } from '../apache/httpd.js';
import { buildNative, compileFixture, HTTPD_CFLAGS, nativeConfig } from './helpers.js';

const missing = apacheMissing ?? (existsSync('/usr/include/apache2/httpd.h') ? undefined : 'Apache headers missing (apt-get install apache2-dev)');
/** Linux routes all of 127/8 to lo: a client bound here is told apart from Apache (127.0.0.1). */
const CLIENT_ADDRESS = '127.0.0.2';

function parseReport(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe.skipIf(missing)('request_rec through the generated Apache proxy config', () => {
  let gateway: RunningGateway;
  let httpd: Httpd;
  const lines: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    buildNative();
    const plugin = compileFixture('apache_request', HTTPD_CFLAGS);
    const config = { ...nativeConfig([{ location: '/req', path: plugin, init: 'request_init' }]), remoteIp: { header: 'X-Forwarded-For', trustedProxies: ['127.0.0.1'] } };
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    gateway = await startGateway(config, { log });
    const backend = parseBackend(`http://127.0.0.1:${gateway.addresses[0]!.port}`);
    httpd = await startHttpd({ body: generateApacheConfig(config, { backend, style: ProxyStyle.Proxy }).text });
  });

  afterAll(async () => {
    await httpd?.stop();
    await gateway?.close();
  });

  test('r->useragent_ip is the client, r->connection the proxy; host and port are what the client asked Apache for', async () => {
    const client = await openClient(httpd.url('/req/via/apache?token=secret&x=%2F'), {
      localAddress: CLIENT_ADDRESS,
      headers: { Cookie: 'sid=through-apache', 'X-Custom': 'proxied' },
    });
    try {
      const r = parseReport(await client.nextText());
      expect(r).toMatchObject({
        the_request: 'GET /req/via/apache?token=secret&x=%2F HTTP/1.1',
        method: 'GET',
        uri: '/req/via/apache',
        args: 'token=secret&x=%2F',
        path_info: '/via/apache',
        useragent_ip: CLIENT_ADDRESS,
        client_ip: '127.0.0.1',
        local_ip: '127.0.0.1',
        local_port: String(gateway.addresses[0]!.port),
        hostname: '127.0.0.1',
        get_server_name: '127.0.0.1',
        get_server_port: String(httpd.port),
        cookie: 'sid=through-apache',
        custom: 'proxied',
        'env.REMOTE_ADDR': CLIENT_ADDRESS,
        'env.SERVER_PORT': String(httpd.port),
      });
      expect(lines.find((l) => l.msg === `accepted ${CLIENT_ADDRESS} for /req/via/apache`)).toMatchObject({ level: 30, remote: CLIENT_ADDRESS });
    } finally {
      client.ws.terminate();
    }
  });

  test("Apache relays the plugin's headers_out on the 101, and its 403 for a bad token", async () => {
    const accepted = await answer(httpd.url('/req/h?token=secret'), { Cookie: 'sid=s1' });
    expect(accepted.status).toBe(101);
    expect(accepted.headers['x-session']).toBe('s1');
    const refused = await answer(httpd.url('/req/h?token=nope'), { Cookie: 'sid=s1' });
    expect(refused.status).toBe(403);
    expect(refused.headers['x-session']).toBeUndefined();
    expect(lines.find((l) => l.msg === `refused ${CLIENT_ADDRESS}: bad token nope`)).toMatchObject({ level: 50 });
  });
});

/** The HTTP answer to an upgrade from CLIENT_ADDRESS, 101 or not. */
function answer(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { localAddress: CLIENT_ADDRESS, headers, handshakeTimeout: 5000 });
    ws.once('upgrade', (res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      setImmediate(() => ws.terminate());
    });
    ws.once('unexpected-response', (req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
      res.resume();
      req.destroy();
    });
    ws.once('error', reject);
  });
}
